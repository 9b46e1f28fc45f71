import Foundation
import Logging
import Metrics
import Synchronization
import TollgateCore
import TollgateRedis

/// The Redis store with a policy for when Redis is unreachable: fail open (enforce limits
/// per process meanwhile, loudly) or fail closed (refuse with 503). Claims taken locally
/// are settled locally.
final class FailoverQuotaStore: QuotaStore {
    let shared: RedisQuotaStore
    let local = InProcessQuotaStore()
    let failOpen: Bool
    private let logger: Logger
    private let heldLocally = Mutex<Set<String>>([])
    private let fallbacks = Counter(label: "tollgate_limit_store_fallbacks_total")
    private let lastWarning = Atomic<Int64>(0)

    init(shared: RedisQuotaStore, failOpen: Bool, logger: Logger) {
        self.shared = shared
        self.failOpen = failOpen
        self.logger = logger
    }

    func claim(_ claim: QuotaClaim) async throws -> Result<QuotaGrant, QuotaDenial> {
        do {
            return try await self.shared.claim(claim)
        } catch {
            if case .reply(let message) = error as? RedisError {
                // Redis answered, with an error: a bug, not an outage. Falling back would hand
                // out a fresh local budget, so refuse.
                self.logger.error("the Redis limit script failed", metadata: ["error": "\(message)"])
                throw GatewayError.limitStoreUnavailable
            }
            self.fallbacks.increment()
            self.warn(error)
            guard self.failOpen else { throw GatewayError.limitStoreUnavailable }
            self.heldLocally.withLock { _ = $0.insert(claim.requestID) }
            return self.local.claimNow(claim)
        }
    }

    func settle(_ claim: QuotaClaim, _ settlement: QuotaSettlement) async throws {
        if self.heldLocally.withLock({ $0.remove(claim.requestID) != nil }) {
            self.local.settleNow(claim, settlement)
            return
        }
        // On failure the reservation's lease frees it later; the spend is logged by the caller.
        try await self.shared.settle(claim, settlement)
    }

    func budgetUsedPercent(_ scopes: [QuotaScope], at time: Date) -> Double? {
        let shared = self.shared.budgetUsedPercent(scopes, at: time)
        let local = self.local.budgetUsedPercent(scopes, at: time)
        guard let shared else { return local }
        return max(shared, local ?? 0)
    }

    /// One loud line every 10 s at most while Redis stays unreachable.
    private func warn(_ error: any Error) {
        let now = Int64(Date().timeIntervalSince1970)
        let last = self.lastWarning.load(ordering: .relaxed)
        guard now - last >= 10, self.lastWarning.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else { return }
        if self.failOpen {
            self.logger.error("Redis limit store unreachable: enforcing limits and budgets per process until it is back (fail open)", metadata: ["error": "\(error)"])
        } else {
            self.logger.error("Redis limit store unreachable: refusing requests until it is back (fail closed)", metadata: ["error": "\(error)"])
        }
    }
}
