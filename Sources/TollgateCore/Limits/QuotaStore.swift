import Foundation

/// One request's claim on its scopes: a request slot, its estimated tokens, a concurrency
/// slot and the worst-case cost, all taken atomically or not at all.
public struct QuotaClaim: Sendable {
    public var requestID: String
    public var scopes: [QuotaScope]
    /// Estimated prompt tokens plus the output tokens the request may produce.
    public var tokens: Int
    /// The worst-case cost reserved against every daily budget.
    public var reservation: USD
    /// When the claim is taken; budget days are derived from it.
    public var time: Date
    /// How long a reservation and a concurrency slot live if never settled (a crashed
    /// process), so a crash cannot block a user until midnight.
    public var lease: Duration

    /// `budgetDays`: the scopes' days when the caller has them already (`BudgetDay.days`,
    /// for routing's `budget_used_pct`); by default, the days at `time`.
    public init(
        requestID: String, scopes: [QuotaScope], tokens: Int, reservation: USD, time: Date = Date(), lease: Duration = .seconds(900),
        budgetDays: [BudgetDay?]? = nil
    ) {
        precondition(budgetDays == nil || budgetDays?.count == scopes.count, "one budget day (or nil) per scope")
        self.requestID = requestID
        self.scopes = scopes
        self.tokens = tokens
        self.reservation = reservation
        self.time = time
        self.lease = lease
        self.budgetDays = budgetDays ?? BudgetDay.days(for: scopes, at: time)
    }

    public var isEmpty: Bool { self.scopes.isEmpty }

    /// Budget days of every scope with a daily budget, aligned with `scopes`: fixed when the
    /// claim is made, so its settlement goes to the same days.
    public let budgetDays: [BudgetDay?]
}

/// Rate-limit status for the `x-ratelimit-*` headers: the most constrained scope.
public struct RateStatus: Sendable, Equatable {
    public var limit: Int
    public var remaining: Int
    /// Seconds until the allowance is full again.
    public var resetAfter: Double

    public init(limit: Int, remaining: Int, resetAfter: Double) {
        self.limit = limit
        self.remaining = remaining
        self.resetAfter = resetAfter
    }

    /// Keeps whichever status leaves less room.
    mutating func tighten(_ other: RateStatus) {
        if other.remaining < self.remaining || (other.remaining == self.remaining && other.limit < self.limit) { self = other }
    }
}

/// What an admitted claim got.
public struct QuotaGrant: Sendable, Equatable {
    public var requests: RateStatus?
    public var tokens: RateStatus?
    /// Highest share of a daily budget in use (spent plus reserved, this claim included), percent.
    public var budgetUsedPercent: Double?

    public init(requests: RateStatus? = nil, tokens: RateStatus? = nil, budgetUsedPercent: Double? = nil) {
        self.requests = requests
        self.tokens = tokens
        self.budgetUsedPercent = budgetUsedPercent
    }
}

/// Why a claim was refused.
public enum QuotaDenial: Error, Sendable, Equatable {
    public enum Resource: String, Sendable { case requests, tokens, concurrency }
    case rateLimited(scope: String, resource: Resource, limit: Int, retryAfter: Double, requests: RateStatus?, tokens: RateStatus?)
    /// The request alone needs more than the scope's per-minute allowance: waiting won't help.
    case tooLarge(scope: String, resource: Resource, limit: Int, requested: Int)
    case budgetExceeded(scope: String, limit: USD, used: USD, requested: USD, resetsAt: Date)
}

/// What a finished request really used.
public struct QuotaSettlement: Sendable, Equatable {
    public var tokens: Int
    public var cost: USD

    public init(tokens: Int, cost: USD) {
        self.tokens = tokens
        self.cost = cost
    }

    /// A request that failed before the provider produced anything: everything is released.
    public static let nothing = QuotaSettlement(tokens: 0, cost: .zero)
}

/// Where limits and budgets live: in process, or in Redis so gateway replicas share them.
/// `claim` checks every scope and reserves in one atomic step; `settle` replaces the
/// reservation by what the request really used and frees its concurrency slot.
public protocol QuotaStore: Sendable {
    func claim(_ claim: QuotaClaim) async throws -> Result<QuotaGrant, QuotaDenial>
    func settle(_ claim: QuotaClaim, _ settlement: QuotaSettlement) async throws
    /// Last known budget use of these scopes (percent), without a round trip: what routing
    /// sees as `budget_used_pct`. Exact in process; as of the last reply with Redis.
    func budgetUsedPercent(_ scopes: [QuotaScope], days: [BudgetDay?]) -> Double?
}

extension QuotaStore {
    /// `budget_used_pct` at `time`.
    public func budgetUsedPercent(_ scopes: [QuotaScope], at time: Date) -> Double? {
        self.budgetUsedPercent(scopes, days: BudgetDay.days(for: scopes, at: time))
    }
}

/// A store that answers without I/O (the in-process one): claims and settlements run
/// inline on the request's thread, with no task and no suspension.
public protocol SynchronousQuotaStore: QuotaStore {
    func claimNow(_ claim: QuotaClaim) -> Result<QuotaGrant, QuotaDenial>
    func settleNow(_ claim: QuotaClaim, _ settlement: QuotaSettlement)
}
