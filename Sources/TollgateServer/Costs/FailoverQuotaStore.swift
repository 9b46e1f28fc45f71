import Foundation
import Logging
import Metrics
import NIOCore
import Synchronization
import TollgateCore
import TollgateRedis

/// The Redis store with a policy for when Redis is unreachable: fail open (enforce limits
/// per process meanwhile, loudly) or fail closed (refuse with 503). Claims taken locally
/// are settled locally, and what they spent is owed to the shared budgets: it is paid into
/// Redis once Redis answers again, so an outage does not hand everyone a fresh budget.
final class FailoverQuotaStore: QuotaStore {
    let shared: RedisQuotaStore
    let local = InProcessQuotaStore()
    let failOpen: Bool
    private let logger: Logger
    private let heldLocally = Mutex<Set<String>>([])
    private let fallbacks = Counter(label: "tollgate_limit_store_fallbacks_total")
    private let lastWarning = Atomic<Int64>(0)
    private let owed = Mutex(OwedSpend())
    private let owedDropped = Counter(label: "tollgate_limit_store_unpaid_settlements_total")

    /// Settlements made locally during an outage, in order, not yet in Redis. Only the oldest
    /// is ever taken off (paid, or dropped for room), so a ring: up to the bound, an outage
    /// must not make each payment shift the whole queue.
    private struct OwedSpend {
        var settlements = CircularBuffer<(claim: QuotaClaim, settlement: QuotaSettlement)>()
        /// A task is paying them back.
        var paying = false
    }

    /// Bounds what an outage can queue; older settlements are dropped (and counted) first.
    static let maxOwedSettlements = 100_000
    /// Pause between attempts while Redis is still unreachable.
    static let payBackRetry = Duration.seconds(1)

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
            // Its tokens are not refunded in Redis: the claim may never have reached it.
            if settlement.cost > .zero, claim.budgetDays.contains(where: { $0 != nil }) {
                self.owe(claim, QuotaSettlement(tokens: claim.tokens, cost: settlement.cost))
            }
            return
        }
        do {
            try await self.shared.settle(claim, settlement)
        } catch let error as RedisError where error.isTransient {
            // Still unreachable after the store's own retries: it joins the owed settlements.
            self.owe(claim, settlement)
        }
    }

    func budgetUsedPercent(_ scopes: [QuotaScope], days: [BudgetDay?]) -> Double? {
        let shared = self.shared.budgetUsedPercent(scopes, days: days)
        let local = self.local.budgetUsedPercent(scopes, days: days)
        guard let shared else { return local }
        return max(shared, local ?? 0)
    }

    /// Queues a settlement for Redis. If its claim reached Redis after all (a timeout is
    /// ambiguous), paying it also releases the claim's reservation and slot.
    private func owe(_ claim: QuotaClaim, _ settlement: QuotaSettlement) {
        let (startPaying, dropped) = self.owed.withLock { owed -> (Bool, Bool) in
            var dropped = false
            if owed.settlements.count >= Self.maxOwedSettlements {
                owed.settlements.removeFirst()
                dropped = true
            }
            owed.settlements.append((claim, settlement))
            guard !owed.paying else { return (false, dropped) }
            owed.paying = true
            return (true, dropped)
        }
        if dropped { self.owedDropped.increment() }
        if startPaying { Task { await self.payBack() } }
    }

    /// Pays owed settlements into Redis, oldest first, waiting while it is unreachable.
    private func payBack() async {
        while let next = self.owed.withLock({ owed -> (claim: QuotaClaim, settlement: QuotaSettlement)? in
            guard let first = owed.settlements.first else {
                owed.paying = false
                return nil
            }
            return first
        }) {
            do {
                try await self.shared.settle(next.claim, next.settlement)
            } catch let error as RedisError where error.isTransient {
                try? await Task.sleep(for: Self.payBackRetry)
                continue
            } catch {
                self.owedDropped.increment()
                self.logger.error("could not pay a settlement made during a Redis outage into Redis", metadata: ["error": "\(error)"])
            }
            // Paid (settling runs once per claim, so a repeat is harmless) or given up. Still the
            // oldest unless the bound dropped it meanwhile.
            self.owed.withLock { owed in
                if owed.settlements.first?.claim.requestID == next.claim.requestID {
                    owed.settlements.removeFirst()
                }
            }
        }
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
