import Foundation
import Synchronization
import HTTPTypes
import Logging
import Metrics
import NIOPosix
import TollgateCore

/// Prices requests and holds them to rate limits and daily budgets: before a request goes
/// upstream it claims its worst case from every scope it counts against; when it ends,
/// the claim is settled to what the provider reported.
final class CostControl: Sendable {
    let prices: PriceBook
    let limits: LimitsConfig
    private let scopeResolver: ScopeResolver
    let store: any QuotaStore
    /// `store` when it answers without I/O: then claims and settlements run inline.
    private let synchronousStore: (any SynchronousQuotaStore)?
    private let logger: Logger
    private let denials: Mutex<[String: Counter]> = .init([:])
    private let softLimitCrossings = Counter(label: "tollgate_budget_soft_limit_requests_total")
    private let spend = FloatingPointCounter(label: "tollgate_spend_usd_total")
    /// Budgets that refused a request today, for budget alerts.
    let budgetRefusals = BudgetRefusals()

    /// No request is counted as more tokens than this (a billion): far above any model's
    /// window, far below where sums could overflow.
    static let tokenCeiling = 1 << 30

    /// How long a claim holds its reservation and concurrency slot if never settled: longer
    /// than any request can run, so a live request never loses them.
    let lease: Duration

    init(prices: PriceBook, limits: LimitsConfig, store: any QuotaStore, lease: Duration, logger: Logger) {
        self.lease = lease
        self.prices = prices
        self.limits = limits
        self.scopeResolver = ScopeResolver(limits: limits)
        self.store = store
        self.synchronousStore = store as? any SynchronousQuotaStore
        self.logger = logger
    }

    /// The scopes a request counts against (none when nothing limits this key or user).
    func scopes(key: GatewayKey, user: String?) -> [QuotaScope] {
        self.scopeResolver.scopes(key: key, user: user)
    }

    /// The current budget day of each scope (nil for scopes without a daily budget): looked
    /// up once per request, for `budget_used_pct` and for the claim.
    func budgetDays(for scopes: [QuotaScope]) -> [BudgetDay?] {
        scopes.isEmpty ? [] : BudgetDay.days(for: scopes, at: Date())
    }

    /// `budget_used_pct` for routing: the fullest of the request's daily budgets.
    func budgetUsedPercent(_ scopes: [QuotaScope], days: [BudgetDay?]) -> Double? {
        scopes.isEmpty ? nil : self.store.budgetUsedPercent(scopes, days: days)
    }

    /// The price of `model`, or the error that refuses an unpriced model (a pattern mapping
    /// can resolve names the price list does not know).
    func price(for model: String) throws(GatewayError) -> ModelPrice {
        guard let price = self.prices.price(for: model) else { throw .modelNotPriced(model) }
        return price
    }

    /// Claims a request's share of every scope, or throws the 429 that explains which limit
    /// refused it.
    func admit(
        requestID: String, scopes: [QuotaScope], budgetDays: [BudgetDay?]? = nil, price: ModelPrice, inputTokens: Int,
        maxOutputTokens: Int?, logger: Logger
    ) async throws(GatewayError) -> CostTicket {
        // Both counts come from the client: clamp so no arithmetic on them can trap.
        let outputTokens = min(maxOutputTokens ?? self.limits.defaultOutputReservation, Self.tokenCeiling)
        let input = min(inputTokens, Self.tokenCeiling)
        // A shared store keys a claim's reservation and concurrency slot by its id, so that id is
        // the gateway's own: a client-chosen request id must never let two requests share them.
        // In process a claim is settled through the ticket holding it, never looked up by id.
        let claimID = self.synchronousStore == nil ? requestID + "." + Self.nextClaimSuffix() : requestID
        let claim = QuotaClaim(
            requestID: claimID, scopes: scopes,
            tokens: input + outputTokens, reservation: price.worstCaseCost(inputTokens: input, maxOutputTokens: outputTokens),
            lease: self.lease, budgetDays: budgetDays
        )
        guard !claim.isEmpty else { return CostTicket(claim: claim, grant: QuotaGrant(), price: price) }
        let result: Result<QuotaGrant, QuotaDenial>
        if let local = self.synchronousStore {
            result = local.claimNow(claim)
        } else {
            do {
                result = try await self.store.claim(claim)
            } catch {
                let failure = (error as? GatewayError) ?? .limitStoreUnavailable
                throw failure
            }
        }
        switch result {
        case .success(let grant):
            if let used = grant.budgetUsedPercent, used >= self.limits.softLimitPercent {
                self.softLimitCrossings.increment()
                logger.warning("budget past soft limit", metadata: ["budget_used_pct": "\(Int(used))"])
            }
            return CostTicket(claim: claim, grant: grant, price: price)
        case .failure(let denial):
            if case .budgetExceeded(let label, _, _, _, _) = denial, let index = scopes.firstIndex(where: { $0.label == label }) {
                let day = budgetDays.flatMap { $0.indices.contains(index) ? $0[index] : nil } ?? BudgetDay(containing: Date(), in: scopes[index].timeZone)
                self.budgetRefusals.record(scopes[index], day: day.name)
            }
            let error = GatewayError(denial)
            self.countDenial(error.code ?? error.type)
            logger.notice("request refused by limits", metadata: ["reason": "\(error.message)"])
            throw error
        }
    }

    /// This process's random prefix, drawn once, and a counter: unique across processes that
    /// share a Redis store, without a `getrandom` system call per request.
    private static let processNonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    private static let claimCounter = Atomic<UInt64>(0)

    private static func nextClaimSuffix() -> String {
        Self.processNonce + "-" + String(Self.claimCounter.add(1, ordering: .relaxed).newValue, radix: 36)
    }

    /// Replaces the claim's reservation by what the request really cost. Runs after the
    /// response; a shared store's round trip runs in a task, off the request's critical path.
    func settle(_ ticket: CostTicket, usage: TokenUsage?, cost: USD) {
        if cost > .zero { self.spend.increment(by: cost.dollars) }
        guard !ticket.claim.isEmpty else { return }
        let settlement = QuotaSettlement(tokens: usage?.totalTokens ?? 0, cost: cost)
        // In process, settling is a few dictionary updates under a lock: no task needed.
        if let local = self.synchronousStore {
            local.settleNow(ticket.claim, settlement)
            return
        }
        let store = self.store
        let logger = self.logger
        // On the event loop that finished the request, when there is one: the settlement then
        // waits for Redis there, instead of waking a pool thread to send it and another to
        // take the reply (bench/RESULTS.md, "Redis scripts").
        let loop = MultiThreadedEventLoopGroup.currentEventLoop.map(EventLoopTaskExecutor.init)
        Task(executorPreference: loop) {
            do {
                try await store.settle(ticket.claim, settlement)
            } catch {
                logger.error("could not settle a budget reservation", metadata: ["request.id": "\(ticket.claim.requestID)", "error": "\(error)"])
            }
        }
    }

    private func countDenial(_ reason: String) {
        let counter = self.denials.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(label: "tollgate_limit_denials_total", dimensions: [("reason", reason)])
            counters[reason] = counter
            return counter
        }
        counter.increment()
    }
}

/// One admitted request's claim and what it got.
struct CostTicket: Sendable {
    let claim: QuotaClaim
    let grant: QuotaGrant
    let price: ModelPrice

    /// What the request costs when it ends with `usage`. A request that got an answer but
    /// no usage report is charged its reservation: budgets must never be undercounted.
    func cost(of usage: TokenUsage?, answered: Bool) -> USD {
        if let usage { return self.price.cost(of: usage) }
        return answered ? self.claim.reservation : .zero
    }

    /// OpenAI's `x-ratelimit-*` headers, from the tightest scope.
    func addRateLimitHeaders(to headers: inout HTTPFields) {
        headers.addRateLimitHeaders(requests: self.grant.requests, tokens: self.grant.tokens)
    }
}

extension HTTPFields {
    /// Appends the headers (the gateway adds them once, to fields that do not have them).
    mutating func addRateLimitHeaders(requests: RateStatus?, tokens: RateStatus?) {
        if let requests {
            self.append(HTTPField(name: .rateLimitLimitRequests, value: String(requests.limit)))
            self.append(HTTPField(name: .rateLimitRemainingRequests, value: String(requests.remaining)))
            self.append(HTTPField(name: .rateLimitResetRequests, value: RateStatus.formatReset(requests.resetAfter)))
        }
        if let tokens {
            self.append(HTTPField(name: .rateLimitLimitTokens, value: String(tokens.limit)))
            self.append(HTTPField(name: .rateLimitRemainingTokens, value: String(tokens.remaining)))
            self.append(HTTPField(name: .rateLimitResetTokens, value: RateStatus.formatReset(tokens.resetAfter)))
        }
    }
}

extension RateStatus {
    /// OpenAI's duration format: `1s`, `6m0s`, `120ms`.
    /// Built by concatenation: these values fit in a small string, which interpolation would
    /// first reserve heap storage for.
    static func formatReset(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0s" }
        if seconds < 1 { return String(max(1, Int((seconds * 1000).rounded(.up)))) + "ms" }
        let whole = Int(min(seconds, 1e15).rounded(.up))
        if whole < 60 { return String(whole) + "s" }
        return String(whole / 60) + "m" + String(whole % 60) + "s"
    }
}

extension HTTPField.Name {
    static let rateLimitLimitRequests = Self("x-ratelimit-limit-requests")!
    static let rateLimitRemainingRequests = Self("x-ratelimit-remaining-requests")!
    static let rateLimitResetRequests = Self("x-ratelimit-reset-requests")!
    static let rateLimitLimitTokens = Self("x-ratelimit-limit-tokens")!
    static let rateLimitRemainingTokens = Self("x-ratelimit-remaining-tokens")!
    static let rateLimitResetTokens = Self("x-ratelimit-reset-tokens")!
    static let tollgateCostUSD = Self("X-Tollgate-Cost-USD")!
}

extension GatewayError {
    /// The 429 (or 503) a refused claim becomes, with `Retry-After`.
    init(_ denial: QuotaDenial) {
        switch denial {
        case .rateLimited(let scope, let resource, let limit, let retryAfter, let requests, let tokens):
            let unit = resource == .concurrency ? "concurrent requests" : "\(resource.rawValue) per minute"
            var headers = HTTPFields()
            headers.addRateLimitHeaders(requests: requests, tokens: tokens)
            let wait = max(1, Int(retryAfter.rounded(.up)))
            self.init(
                status: 429, type: resource == .concurrency ? "requests" : resource.rawValue, code: "rate_limit_exceeded",
                message: "Rate limit reached for \(scope) on \(unit): limit \(limit). Please try again in \(wait)s.",
                headers: [("Retry-After", String(wait))] + headers.map { ($0.name.canonicalName, $0.value) }
            )
        case .tooLarge(let scope, let resource, let limit, let requested):
            self.init(
                status: 429, type: resource.rawValue, code: "rate_limit_exceeded",
                message: "Request too large for \(scope): it needs \(requested) \(resource.rawValue) but the limit is \(limit) per minute. Reduce the prompt or max_tokens.",
                headers: [("Retry-After", "60")]
            )
        case .budgetExceeded(let scope, let limit, let used, let requested, let resetsAt):
            let wait = max(1, Int(resetsAt.timeIntervalSinceNow.rounded(.up)))
            let reset = ISO8601DateFormatter().string(from: resetsAt)
            self.init(
                status: 429, type: "insufficient_quota", code: "budget_exceeded",
                message: "Daily budget exhausted for \(scope): $\(used) of $\(limit) used or reserved, and this request may cost up to $\(requested). The budget resets at \(reset). Lower max_tokens to reserve less.",
                headers: [("Retry-After", String(wait)), ("X-Tollgate-Budget-Reset", reset)]
            )
        }
    }

    static func modelNotPriced(_ model: String) -> GatewayError {
        GatewayError(
            status: 403, type: "invalid_request_error", code: "model_not_priced",
            message: "The model '\(model)' has no price in budgets/prices.yaml, so the gateway cannot hold it to budgets. Ask the operator to add one."
        )
    }

    static let limitStoreUnavailable = GatewayError(
        status: 503, type: "server_error", code: "limit_store_unavailable",
        message: "The gateway cannot reach its shared limit store, and is configured to refuse requests until it can."
    )
}

extension HTTPField.Name {
    /// `Trailer`: announces the fields that follow a streamed body.
    static let trailerFields = Self("Trailer")!
}
