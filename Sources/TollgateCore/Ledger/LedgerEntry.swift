import Foundation

/// One finished request as the ledger keeps it: who asked, what answered, what it cost and
/// how long it took. Written once when the request ends (for streams, when the stream ends).
public struct LedgerEntry: Sendable, Equatable {
    /// Where the answer came from.
    public enum CacheStatus: String, Sendable, CaseIterable {
        case miss, exact, semantic
    }

    /// The fallback step that produced the answer (`X-Tollgate-Fallback`).
    public enum Fallback: String, Sendable, CaseIterable {
        case none, retry
        case smallerModel = "smaller-model"
        case cache, template
    }

    /// When the request arrived, in milliseconds since 1970 (UTC): reports count a request in
    /// the day (or range) it came in.
    public var timeMs: Int64
    public var requestID: String
    /// The gateway key's id; nil for requests rejected before a key was known.
    public var keyID: String?
    public var team: String?
    /// The end user (OpenAI `user`, Anthropic `metadata.user_id`, `X-Tollgate-User`) or the key's user.
    public var user: String?
    /// The matched route's name.
    public var route: String?
    /// The model or alias the client asked for.
    public var requestedModel: String?
    /// The model that produced the answer, after routing and any fallback.
    public var servedModel: String?
    public var provider: String?
    public var inputTokens: Int
    /// Input tokens the provider billed at its cached-input price (a part of `inputTokens`).
    public var cachedInputTokens: Int
    public var outputTokens: Int
    /// What the request cost, in billionths of a US dollar. Integers so that sums over
    /// millions of rows are exact; `costUSD` is the same amount as a `Double`.
    public var costNanodollars: Int64
    public var cacheStatus: CacheStatus
    /// On a cache hit, what the original answer cost: what the hit saved (0 otherwise).
    public var cacheAvoidedNanodollars: Int64
    /// What the same tokens would have cost on the model the client asked for (for an alias,
    /// its savings baseline) at list price; nil when that model has no price. Routing savings.
    public var requestedCostNanodollars: Int64?
    /// What attempts that failed before the answer cost (included in `costNanodollars`).
    public var failedAttemptsNanodollars: Int64
    public var fallback: Fallback
    /// Upstream attempts the fallback chain made (0 when none was made: refused, template).
    public var attempts: Int
    /// The failed attempts, oldest first: `model@provider: reason` joined by `; ` (nil when none failed).
    public var attemptErrors: String?
    /// A stream that broke after content reached the client: the answer is incomplete.
    public var truncated: Bool
    /// The status the client got.
    public var httpStatus: Int
    /// The error code of the body the client got (e.g. `rate_limit_exceeded`), if any.
    public var errorCode: String?
    public var stream: Bool
    /// From the request's arrival to its last byte.
    public var latencyMs: Int
    /// Time spent waiting on the provider; nil when no provider was called (cache, template).
    public var upstreamLatencyMs: Int?
    /// Time to the first streamed token; nil for non-streaming requests.
    public var timeToFirstTokenMs: Int?
    /// The routing features of the request as JSON, for `tollgate routes replay`.
    public var featuresJSON: String?
    /// The request's `X-Tollgate-Tag` tags as a JSON object (`{"env":"prod"}`); nil without tags.
    public var tagsJSON: String?
    /// The prompt and the answer. Written only when `ledger.store_text` is on; otherwise the
    /// writer drops them whatever the caller sets.
    public var promptText: String?
    public var responseText: String?

    /// Inlinable: called across modules on every request, it otherwise built the entry in a
    /// temporary and copied it out, retaining and releasing each string once more.
    @inlinable
    public init(
        timeMs: Int64,
        requestID: String,
        keyID: String? = nil,
        team: String? = nil,
        user: String? = nil,
        route: String? = nil,
        requestedModel: String? = nil,
        servedModel: String? = nil,
        provider: String? = nil,
        inputTokens: Int = 0,
        cachedInputTokens: Int = 0,
        outputTokens: Int = 0,
        costNanodollars: Int64 = 0,
        cacheStatus: CacheStatus = .miss,
        cacheAvoidedNanodollars: Int64 = 0,
        requestedCostNanodollars: Int64? = nil,
        failedAttemptsNanodollars: Int64 = 0,
        fallback: Fallback = .none,
        attempts: Int = 1,
        attemptErrors: String? = nil,
        truncated: Bool = false,
        httpStatus: Int,
        errorCode: String? = nil,
        stream: Bool = false,
        latencyMs: Int,
        upstreamLatencyMs: Int? = nil,
        timeToFirstTokenMs: Int? = nil,
        featuresJSON: String? = nil,
        tagsJSON: String? = nil,
        promptText: String? = nil,
        responseText: String? = nil
    ) {
        self.timeMs = timeMs
        self.requestID = requestID
        self.keyID = keyID
        self.team = team
        self.user = user
        self.route = route
        self.requestedModel = requestedModel
        self.servedModel = servedModel
        self.provider = provider
        self.inputTokens = inputTokens
        self.cachedInputTokens = cachedInputTokens
        self.outputTokens = outputTokens
        self.costNanodollars = costNanodollars
        self.cacheStatus = cacheStatus
        self.cacheAvoidedNanodollars = cacheAvoidedNanodollars
        self.requestedCostNanodollars = requestedCostNanodollars
        self.failedAttemptsNanodollars = failedAttemptsNanodollars
        self.fallback = fallback
        self.attempts = attempts
        self.attemptErrors = attemptErrors
        self.truncated = truncated
        self.httpStatus = httpStatus
        self.errorCode = errorCode
        self.stream = stream
        self.latencyMs = latencyMs
        self.upstreamLatencyMs = upstreamLatencyMs
        self.timeToFirstTokenMs = timeToFirstTokenMs
        self.featuresJSON = featuresJSON
        self.tagsJSON = tagsJSON
        self.promptText = promptText
        self.responseText = responseText
    }

    /// When the request arrived.
    public var time: Date {
        get { Date(timeIntervalSince1970: Double(self.timeMs) / 1000) }
        set { self.timeMs = Self.milliseconds(newValue) }
    }

    /// The cost in US dollars (rounded to the nanodollar when set).
    public var costUSD: Double {
        get { Double(self.costNanodollars) / 1_000_000_000 }
        set { self.costNanodollars = Self.nanodollars(usd: newValue) }
    }

    /// The cost in US dollars, exactly.
    public var costDecimal: Decimal {
        Decimal(self.costNanodollars) / Decimal(1_000_000_000)
    }

    /// Rounds a dollar amount to whole nanodollars.
    public static func nanodollars(usd: Double) -> Int64 {
        guard usd.isFinite else { return 0 }
        return Int64((usd * 1_000_000_000).rounded())
    }

    /// Rounds a dollar amount to whole nanodollars.
    public static func nanodollars(usd: Decimal) -> Int64 {
        var scaled = usd * Decimal(1_000_000_000)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    /// Milliseconds since 1970 for `date`.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
