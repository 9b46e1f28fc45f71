import Foundation
import Logging
import ServiceLifecycle
import TollgateCore
import TollgateRedis

/// Shares circuit breaker state between replicas through Redis, so that a deployment one
/// replica found down is skipped by all of them. Off the request path: every `interval` it
/// writes this replica's opens (`HSET tollgate:circuits <deployment> <open-until ms>`) and
/// closes (`HDEL`), then reads the hash and adopts what the others hold open. Redis being
/// unreachable only means each replica decides alone until it answers again.
struct CircuitSync: Service {
    static let key = "tollgate:circuits"

    let breakers: CircuitBreakers
    let redis: RedisClient
    let interval: Duration
    let logger: Logger

    func run() async throws {
        // Graceful shutdown cancels the loop (and its sleep) at once.
        try? await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await self.syncOnce()
                if failing { self.logger.notice("circuit state is shared through Redis again") }
                failing = false
            } catch {
                if !failing { self.logger.warning("circuit state not shared: Redis did not answer", metadata: ["error": "\(error)"]) }
                failing = true
            }
            do {
                try await Task.sleep(for: self.interval)
            } catch {
                return
            }
        }
    }

    /// One exchange: push local changes, then adopt the shared state.
    func syncOnce() async throws(RedisError) {
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let changes = self.breakers.takeLocalChanges()
        var commands: [[String]] = []
        for (deployment, state) in changes.sorted(by: { $0.key < $1.key }) {
            switch state {
            case .open: commands.append(["HSET", Self.key, deployment, String(nowMs + self.breakers.policy.coolDown.milliseconds)])
            case .closed: commands.append(["HDEL", Self.key, deployment])
            case .halfOpen: break
            }
        }
        commands.append(["HGETALL", Self.key])
        let replies: [RedisReply]
        do {
            replies = try await self.redis.pipeline(commands)
        } catch {
            // Not written: try again next time, unless a newer local change replaced it.
            self.breakers.restoreLocalChanges(changes)
            throw error
        }
        guard let fields = replies.last?.arrayValue else { return }
        var open: [String: Duration] = [:]
        var index = 0
        while index + 1 < fields.count {
            if let deployment = fields[index].stringValue, let until = fields[index + 1].stringValue.flatMap(Int64.init), until > nowMs {
                open[deployment] = .milliseconds(until - nowMs)
            }
            index += 2
        }
        self.breakers.adopt(openElsewhere: open)
    }
}
