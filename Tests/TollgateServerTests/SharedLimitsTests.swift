import Foundation
import Logging
import Testing
import TollgateCore
import TollgateRedis
import TollgateTestSupport

/// Two live gateways sharing a real redis-server: limits and budgets hold across both.
@Suite struct SharedLimitsTests {
    /// `timeout`: generous unless the test pauses Redis. On a loaded 2-core machine a reply can
    /// take longer than the default 250 ms, and a timeout would send the request down the
    /// failure path the test is not about.
    static func sharedRedis(
        _ url: String, failureMode: StoresConfig.FailureMode = .open, timeout: Duration = .seconds(5)
    ) -> @Sendable (inout GatewayConfig) -> Void {
        { config in
            config.stores.redisURL = url
            config.stores.redisFailureMode = failureMode
            config.stores.redisTimeout = timeout
        }
    }

    /// Runs `body` with two gateways (separate processes' worth of state) on one Redis.
    static func withTwoGateways(
        limits: String, failureMode: StoresConfig.FailureMode = .open, timeout: Duration = .seconds(5),
        _ body: @Sendable (RedisServerProcess, GatewayHarness, GatewayHarness) async throws -> Void
    ) async throws {
        try await RedisServerProcess.withServer { redis in
            let shared = Self.sharedRedis(redis.url, failureMode: failureMode, timeout: timeout)
            // These tests repeat the same request on purpose: the cache would answer it.
            let configure: @Sendable (inout GatewayConfig) -> Void = { config in
                shared(&config)
                config.cache.mode = .off
            }
            try await GatewayHarness.run(budgets: ["limits.yaml": limits], configure: configure) { first in
                try await GatewayHarness.run(budgets: ["limits.yaml": limits], configure: configure) { second in
                    try await body(redis, first, second)
                }
            }
        }
    }

    static let hello = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"max_tokens":20}"#

    @Test func aTeamsRequestsPerMinuteHoldAcrossGateways() async throws {
        try await Self.withTwoGateways(limits: "teams:\n  qa: { rpm: 10 }\n") { _, first, second in
            var statuses: [Int] = []
            let clock = ContinuousClock()
            let start = clock.now
            for index in 0..<16 {
                statuses.append(try await (index.isMultiple(of: 2) ? first : second).chat(Self.hello).status)
            }
            // A burst of 10, then one more every 6 s: on a slow machine the 16 requests may
            // span a refill, and exactness means exactly that many more (never twice the limit).
            let refills = Int((clock.now - start) / .seconds(6))
            let served = statuses.filter { $0 == 200 }.count
            #expect(served >= 10 && served <= 10 + refills, "served \(served) with \(refills) refills")
            #expect(statuses.filter { $0 == 429 }.count == 16 - served)
            #expect(first.provider.received.count + second.provider.received.count == served)
            // The burst itself is never refused.
            #expect(statuses.prefix(10).allSatisfy { $0 == 200 })
        }
    }

    @Test func twoHundredConcurrentRequestsOnTwoGatewaysNeverOverspend() async throws {
        let perRequest = ModelPrice(inputPerMillion: 1, outputPerMillion: 2).worstCaseCost(inputTokens: 20, maxOutputTokens: 50)
        let budget = USD(nanos: perRequest.nanos * 50)
        let limits = "users:\n  carol: { daily_budget_usd: \(budget.description) }\n"
        try await Self.withTwoGateways(limits: limits) { _, first, second in
            let body = #"{"model":"house-model","user":"carol","messages":[{"role":"user","content":"spend"}],"max_tokens":50}"#
            let replies = try await withThrowingTaskGroup(of: TestHTTPClient.Reply.self) { group in
                for index in 0..<200 {
                    let gateway = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await gateway.chat(body) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let served = replies.filter { $0.status == 200 }
            #expect(served.count >= 40)
            #expect(replies.filter { $0.status == 429 }.count == 200 - served.count)
            let charged = served.compactMap { $0.header("X-Tollgate-Cost-USD").flatMap(Double.init).map(USD.init(dollars:)) }.reduce(.zero, +)
            #expect(charged <= budget)
            // Both gateways served part of it: the budget really was shared.
            #expect(!first.provider.received.isEmpty && !second.provider.received.isEmpty)
        }
    }

    @Test func failOpenEnforcesLimitsPerProcessWhileRedisIsDown() async throws {
        try await Self.withTwoGateways(limits: "teams:\n  qa: { rpm: 4 }\n") { redis, first, _ in
            await redis.stop()
            // Each gateway now enforces the limit on its own: 4 each.
            var statuses: [Int] = []
            for _ in 0..<5 { statuses.append(try await first.chat(Self.hello).status) }
            #expect(statuses == [200, 200, 200, 200, 429])
            let ready = try await first.http.send("GET", "/health/ready")
            #expect(ready.status == 503)
            #expect(String(decoding: ready.body, as: UTF8.self).contains(#""redis":"unreachable""#))
        }
    }

    /// What was spent on local budgets while Redis did not answer is paid into Redis once
    /// it answers again: after the outage the shared budget knows every dollar.
    @Test func spendDuringAnOutageReachesRedisAfterIt() async throws {
        try await Self.withTwoGateways(limits: "global: { daily_budget_usd: 100 }\n", timeout: .milliseconds(500)) { redis, first, _ in
            let client = RedisClient(configuration: .init(url: try RedisURL(redis.url), commandTimeout: .seconds(10)), logger: Logger(label: "test"))
            let running = Task { try await client.run() }
            defer {
                client.shutdown()
                running.cancel()
            }
            let key = "tg:b:{g}:" + BudgetDay(containing: Date(), in: TimeZone(identifier: "UTC")!).name
            /// The global budget's spend in Redis once it reaches `target` (or after 30 s).
            func spent(reaching target: (Int64) -> Bool) async throws -> Int64 {
                var nanos: Int64 = 0
                for _ in 0..<300 {
                    let reply = try? await client.send(["HGET", key, "spent"])
                    nanos = reply?.bytesValue.flatMap { Int64(String(decoding: $0, as: UTF8.self)) } ?? 0
                    if target(nanos) { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return nanos
            }
            // Every request here is the same and costs the same.
            #expect(try await first.chat(Self.hello).status == 200)
            let one = try await spent { $0 > 0 }
            #expect(one > 0)
            redis.pause()
            for _ in 0..<3 {
                #expect(try await first.chat(Self.hello).status == 200)  // claimed locally after the Redis timeout
            }
            redis.resume()
            #expect(try await spent { $0 == 4 * one } == 4 * one)
        }
    }

    @Test func failClosedRefusesWhileRedisIsDown() async throws {
        try await Self.withTwoGateways(limits: "teams:\n  qa: { rpm: 100 }\n", failureMode: .closed, timeout: .milliseconds(500)) { redis, first, _ in
            #expect(try await first.chat(Self.hello).status == 200)
            redis.pause()
            let refused = try await first.chat(Self.hello)
            #expect(refused.status == 503)
            let error = try #require((try JSONSerialization.jsonObject(with: refused.body) as? [String: Any])?["error"] as? [String: Any])
            #expect(error["code"] as? String == "limit_store_unavailable")
            redis.resume()
            // The client reconnects on its own (the timeout dropped the connection).
            var status = 0
            for _ in 0..<100 where status != 200 {
                status = try await first.chat(Self.hello).status
                if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(status == 200)
        }
    }

    /// Hardening (issue 15, item 8): Redis restarted without persistence forgets the day's
    /// spend. Each replica notices (its marker is gone) and puts its ledger's share back before
    /// any budget is enforced again, an idle one included: the budget still holds across the loss.
    @Test func aRedisRestartedEmptyGetsTodaysSpendBackFromEachReplica() async throws {
        let perRequest = ModelPrice(inputPerMillion: 1, outputPerMillion: 2).worstCaseCost(inputTokens: 20, maxOutputTokens: 50)
        let budget = USD(nanos: perRequest.nanos * 10)
        let limits = "users:\n  dora: { daily_budget_usd: \(budget.description) }\n"
        try await Self.withTwoGateways(limits: limits, failureMode: .closed) { redis, first, second in
            let body = #"{"model":"house-model","user":"dora","messages":[{"role":"user","content":"spend"}],"max_tokens":50}"#
            for index in 0..<20 {
                #expect(try await (index.isMultiple(of: 2) ? first : second).chat(body).status == 200)
            }
            func spent(_ gateway: GatewayHarness, rows: Int) async throws -> USD {
                try await LedgerTests.rows(in: gateway, count: rows).filter { $0.httpStatus == 200 }.reduce(USD.zero) { $0 + USD(nanos: $1.costNanodollars) }
            }
            let before = try await spent(first, rows: 10) + spent(second, rows: 10)
            #expect(before < budget && before + budget > budget)

            try await redis.restart()
            // The idle replica puts its share back by itself: its marker reappears.
            let client = RedisClient(configuration: .init(url: try RedisURL(redis.url), commandTimeout: .seconds(10)), logger: Logger(label: "test"))
            let running = Task { try await client.run() }
            defer {
                client.shutdown()
                running.cancel()
            }
            let idle = try String(contentsOfFile: second.dataDirectory + "/replica-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let marked = await waitUntil { (try? await client.send(["EXISTS", "tg:seeded:{\(idle)}"]).integerValue) == 1 }
            #expect(marked, "the idle replica's marker is back")

            // Spend until refused (a 503 while the gateway reconnects is asked again).
            var served = 20
            var refused = false
            for _ in 0..<1200 where !refused {
                let reply = try await first.chat(body)
                switch reply.status {
                case 200: served += 1
                case 429: refused = true
                default: try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(refused)
            let total = try await spent(first, rows: served - 10) + spent(second, rows: 10)
            #expect(total <= budget, "spent \(total) of \(budget) across a Redis that lost its data")
        }
    }
}
