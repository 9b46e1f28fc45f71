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
            var grant = QuotaGrant()
            var updated: [ScopeState] = []
            updated.reserveCapacity(claim.scopes.count)
            for (index, scope) in claim.scopes.enumerated() {
                var scopeState = state.scopes[scope.id] ?? ScopeState()
                let limits = scope.limits
                if let rpm = limits.requestsPerMinute {
                    let outcome = GCRA.attempt(tat: scopeState.requestTAT, now: now, quantity: 1, limit: rpm, period: Self.period)
                    let status = RateStatus(limit: rpm, remaining: outcome.remaining, resetAfter: outcome.resetAfter)
                    grant.requests.tighten(status)
                    guard outcome.allowed else {
                        return .failure(.rateLimited(scope: scope.label, resource: .requests, limit: rpm, retryAfter: outcome.retryAfter, requests: grant.requests, tokens: grant.tokens))
                    }
                    scopeState.requestTAT = outcome.newTAT
                }
                if let tpm = limits.tokensPerMinute {
                    let outcome = GCRA.attempt(tat: scopeState.tokenTAT, now: now, quantity: claim.tokens, limit: tpm, period: Self.period)
                    let status = RateStatus(limit: tpm, remaining: outcome.remaining, resetAfter: outcome.resetAfter)
                    grant.tokens.tighten(status)
                    guard outcome.allowed else {
                        if outcome.retryAfter.isInfinite {
                            return .failure(.tooLarge(scope: scope.label, resource: .tokens, limit: tpm, requested: claim.tokens))
                        }
                        return .failure(.rateLimited(scope: scope.label, resource: .tokens, limit: tpm, retryAfter: outcome.retryAfter, requests: grant.requests, tokens: grant.tokens))
                    }
                    scopeState.tokenTAT = outcome.newTAT
                }
                if let maxConcurrent = limits.maxConcurrent, scopeState.inFlight >= maxConcurrent {
                    return .failure(.rateLimited(scope: scope.label, resource: .concurrency, limit: maxConcurrent, retryAfter: 1, requests: grant.requests, tokens: grant.tokens))
                }
                scopeState.inFlight += 1
                if let budget = limits.dailyBudget, let day = days[index] {
                    if scopeState.budgetDay != day.name {
                        scopeState.budgetDay = day.name
                        scopeState.spent = .zero
                        scopeState.reserved = .zero
                    }
                    let used = scopeState.spent + scopeState.reserved
                    guard used + claim.reservation <= budget else {
                        return .failure(.budgetExceeded(scope: scope.label, limit: budget, used: used, requested: claim.reservation, resetsAt: day.resetsAt))
                    }
                    scopeState.reserved = scopeState.reserved + claim.reservation
                    grant.budgetUsedPercent = max(grant.budgetUsedPercent ?? 0, Self.percent(scopeState.spent + scopeState.reserved, of: budget))
                }
                updated.append(scopeState)
            }
            // Every scope admitted the claim: only now is any of it taken.
            for (scope, scopeState) in zip(claim.scopes, updated) { state.scopes[scope.id] = scopeState }
            state.claimsSinceSweep += 1
            if state.claimsSinceSweep >= Self.sweepInterval {
                state.claimsSinceSweep = 0
                Self.sweep(&state, now: now)
            }
            return .success(grant)
        }
    }

    public func settleNow(_ claim: QuotaClaim, _ settlement: QuotaSettlement) {
        let days = claim.budgetDays
        let now = Date()
        self.state.withLock { state in
            for (index, scope) in claim.scopes.enumerated() {
                guard var scopeState = state.scopes[scope.id] else { continue }
                scopeState.inFlight = max(0, scopeState.inFlight - 1)
                if let tpm = scope.limits.tokensPerMinute {
                    scopeState.tokenTAT = GCRA.refund(tat: scopeState.tokenTAT, quantity: claim.tokens - settlement.tokens, limit: tpm, period: Self.period)
                }
                if scope.limits.dailyBudget != nil, let day = days[index] {
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
                state.scopes[scope.id] = scopeState
            }
        }
    }

    public func budgetUsedPercent(_ scopes: [QuotaScope], at time: Date) -> Double? {
        var result: Double?
        let days = BudgetDay.days(for: scopes, at: time)
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
