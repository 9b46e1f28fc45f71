import Foundation
import Synchronization

/// Limits and budgets kept in this process: the embedded default, and the fallback when a
/// shared Redis store is unreachable and configured to fail open. One lock covers all
/// scopes, so a claim is checked and taken atomically; nothing inside it does I/O.
public final class InProcessQuotaStore: SynchronousQuotaStore {
    struct ScopeState {
        var requestTAT: Double = 0
        var tokenTAT: Double = 0
        var inFlight = 0
        var budgetDay = ""
        var spent = USD.zero
        var reserved = USD.zero
    }

    struct State {
        var scopes: [String: ScopeState] = [:]
        var claimsSinceSweep = 0
    }

    private let state = Mutex(State())
    static let period = 60.0
    /// Idle scopes are dropped every this many claims, so unbounded end-user ids cannot
    /// grow memory without bound.
    static let sweepInterval = 4096

    public init() {}

    public func claim(_ claim: QuotaClaim) async throws -> Result<QuotaGrant, QuotaDenial> {
        self.claimNow(claim)
    }

    public func settle(_ claim: QuotaClaim, _ settlement: QuotaSettlement) async throws {
        self.settleNow(claim, settlement)
    }

    /// The synchronous core of `claim`, also used by the Redis store's fail-open path.
    public func claimNow(_ claim: QuotaClaim) -> Result<QuotaGrant, QuotaDenial> {
        let now = claim.time.timeIntervalSince1970
        let days = claim.budgetDays
        return self.state.withLock { state in
            // Each scope's entry is found once (one hash) and its new state kept next to its
            // position, on the stack: nothing is taken until every scope has admitted the claim.
            withUnsafeTemporaryAllocation(of: PendingUpdate.self, capacity: claim.scopes.count) { pending in
                var grant = QuotaGrant()
                var decided = 0
                defer { pending.baseAddress?.deinitialize(count: decided) }
                for (offset, scope) in claim.scopes.enumerated() {
                    let position = state.scopes.index(forKey: scope.id)
                    var scopeState = position.map { state.scopes.values[$0] } ?? ScopeState()
                    if let denial = Self.admit(claim, now: now, day: days[offset], scope: scope, into: &scopeState, grant: &grant) {
                        return .failure(denial)
                    }
                    (pending.baseAddress! + offset).initialize(to: PendingUpdate(position: position, state: scopeState))
                    decided += 1
                }
                // Every scope admitted the claim. Known entries are written in place first:
                // adding a new one may move the others.
                for update in pending where update.position != nil {
                    state.scopes.values[update.position!] = update.state
                }
                for (update, scope) in zip(pending, claim.scopes) where update.position == nil {
                    state.scopes[scope.id] = update.state
                }
                state.claimsSinceSweep += 1
                if state.claimsSinceSweep >= Self.sweepInterval {
                    state.claimsSinceSweep = 0
                    Self.sweep(&state, now: now)
                }
                return .success(grant)
            }
        }
    }

    private struct PendingUpdate {
        var position: Dictionary<String, ScopeState>.Index?
        var state: ScopeState
    }

    /// Checks one scope's limits for `claim` and takes its share in `scopeState`, or returns why not.
    private static func admit(
        _ claim: QuotaClaim, now: Double, day: BudgetDay?, scope: QuotaScope, into scopeState: inout ScopeState, grant: inout QuotaGrant
    ) -> QuotaDenial? {
        let limits = scope.limits
        if let rpm = limits.requestsPerMinute {
            let outcome = GCRA.attempt(tat: scopeState.requestTAT, now: now, quantity: 1, limit: rpm, period: Self.period)
            let status = RateStatus(limit: rpm, remaining: outcome.remaining, resetAfter: outcome.resetAfter)
            grant.requests.tighten(status)
            guard outcome.allowed else {
                return .rateLimited(scope: scope.label, resource: .requests, limit: rpm, retryAfter: outcome.retryAfter, requests: grant.requests, tokens: grant.tokens)
            }
            scopeState.requestTAT = outcome.newTAT
        }
        if let tpm = limits.tokensPerMinute {
            let outcome = GCRA.attempt(tat: scopeState.tokenTAT, now: now, quantity: claim.tokens, limit: tpm, period: Self.period)
            let status = RateStatus(limit: tpm, remaining: outcome.remaining, resetAfter: outcome.resetAfter)
            grant.tokens.tighten(status)
            guard outcome.allowed else {
                if outcome.retryAfter.isInfinite {
                    return .tooLarge(scope: scope.label, resource: .tokens, limit: tpm, requested: claim.tokens)
                }
                return .rateLimited(scope: scope.label, resource: .tokens, limit: tpm, retryAfter: outcome.retryAfter, requests: grant.requests, tokens: grant.tokens)
            }
            scopeState.tokenTAT = outcome.newTAT
        }
        if let maxConcurrent = limits.maxConcurrent, scopeState.inFlight >= maxConcurrent {
            return .rateLimited(scope: scope.label, resource: .concurrency, limit: maxConcurrent, retryAfter: 1, requests: grant.requests, tokens: grant.tokens)
        }
        scopeState.inFlight += 1
        if let budget = limits.dailyBudget, let day {
            if scopeState.budgetDay != day.name {
                scopeState.budgetDay = day.name
                scopeState.spent = .zero
                scopeState.reserved = .zero
            }
            let used = scopeState.spent + scopeState.reserved
            guard used + claim.reservation <= budget else {
                return .budgetExceeded(scope: scope.label, limit: budget, used: used, requested: claim.reservation, resetsAt: day.resetsAt)
            }
            scopeState.reserved = scopeState.reserved + claim.reservation
            grant.budgetUsedPercent = max(grant.budgetUsedPercent ?? 0, Self.percent(scopeState.spent + scopeState.reserved, of: budget))
        }
        return nil
    }

    public func settleNow(_ claim: QuotaClaim, _ settlement: QuotaSettlement) {
        let days = claim.budgetDays
        let now = Date()
        self.state.withLock { state in
            for (index, scope) in claim.scopes.enumerated() {
                // Updated in place: one hash per scope.
                guard let position = state.scopes.index(forKey: scope.id) else { continue }
                Self.settle(claim, settlement, now: now, day: days[index], scope: scope, in: &state.scopes.values[position])
            }
        }
    }

    private static func settle(
        _ claim: QuotaClaim, _ settlement: QuotaSettlement, now: Date, day: BudgetDay?, scope: QuotaScope, in scopeState: inout ScopeState
    ) {
        scopeState.inFlight = max(0, scopeState.inFlight - 1)
        if let tpm = scope.limits.tokensPerMinute {
            scopeState.tokenTAT = GCRA.refund(tat: scopeState.tokenTAT, quantity: claim.tokens - settlement.tokens, limit: tpm, period: Self.period)
        }
        guard scope.limits.dailyBudget != nil, let day else { return }
        if scopeState.budgetDay == day.name {
            scopeState.reserved = max(.zero, scopeState.reserved - claim.reservation)
        }
        // A request that ran past midnight is charged to the day it finished in.
        if now >= day.resetsAt {
            let today = BudgetDay(containing: now, in: scope.timeZone).name
            if scopeState.budgetDay != today, today > day.name {
                scopeState.budgetDay = today
                scopeState.spent = .zero
                scopeState.reserved = .zero
            }
        }
        scopeState.spent = scopeState.spent + settlement.cost
    }

    public func budgetUsedPercent(_ scopes: [QuotaScope], days: [BudgetDay?]) -> Double? {
        var result: Double?
        self.state.withLock { state in
            for (scope, day) in zip(scopes, days) {
                guard let budget = scope.limits.dailyBudget, let day else { continue }
                var percent = 0.0
                if let scopeState = state.scopes[scope.id], scopeState.budgetDay == day.name {
                    percent = Self.percent(scopeState.spent + scopeState.reserved, of: budget)
                }
                result = max(result ?? 0, percent)
            }
        }
        return result
    }

    /// How many scopes the store holds state for (tests: idle ones are swept).
    var trackedScopeCount: Int { self.state.withLock { $0.scopes.count } }

    /// Starts a scope's day with what was already spent (from the ledger after a restart).
    public func seedSpend(scopeID: String, day: String, spent: USD) {
        self.state.withLock { state in
            var scopeState = state.scopes[scopeID] ?? ScopeState()
            if scopeState.budgetDay != day {
                scopeState.budgetDay = day
                scopeState.reserved = .zero
                scopeState.spent = .zero
            }
            scopeState.spent = scopeState.spent + spent
            state.scopes[scopeID] = scopeState
        }
    }

    static func percent(_ used: USD, of budget: USD) -> Double {
        guard budget.nanos > 0 else { return used.nanos > 0 ? 100 : 0 }
        return Double(used.nanos) / Double(budget.nanos) * 100
    }

    /// Budget days are named in their own zones, at most a day apart from UTC: keeping
    /// everything from yesterday (UTC) on keeps every live day. Runs under the lock, so the
    /// cut-off day is computed once, not per scope.
    private static func sweep(_ state: inout State, now: Double) {
        let yesterday = BudgetDay(computing: Date(timeIntervalSince1970: now - 86_400), in: TimeZone(identifier: "UTC")!).name
        state.scopes = state.scopes.filter { _, scope in
            scope.inFlight > 0 || scope.requestTAT > now || scope.tokenTAT > now
                || (scope.budgetDay >= yesterday && (scope.spent > .zero || scope.reserved > .zero))
        }
    }
}

extension Optional where Wrapped == RateStatus {
    mutating func tighten(_ status: RateStatus) {
        if var current = self {
            current.tighten(status)
            self = current
        } else {
            self = status
        }
    }
}
