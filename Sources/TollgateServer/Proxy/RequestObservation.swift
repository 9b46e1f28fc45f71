import Foundation
import Metrics
import NIOCore
import Synchronization
import TollgateCore
import Tracing

/// Who and what a request was, for its ledger row.
struct LedgerContext: Sendable {
    var requestID: String
    /// The key's id and team, not the whole key: fewer references to retain per request.
    var keyID: String
    var team: String?
    var user: String?
    var requestedModel: String
    /// The model and provider that answered: the first target's until an attempt answers.
    var servedModel: String
    var provider: String
    var stream: Bool
    /// The request body, kept only when `ledger.store_text` is on; nil otherwise.
    var promptText: String?
    /// The `X-Tollgate-Tag` tags as JSON, for reports by tag.
    var tagsJSON: String?
    /// The routing features (`RecordedFeatures`), for `tollgate routes replay`.
    var featuresJSON: String?
    /// The list price of the model asked for (an alias's savings baseline): what routing saved.
    var requestedPrice: ModelPrice?

    /// The most of a prompt or response the ledger keeps.
    static let textLimit = 256 << 10

    init(
        requestID: String, key: GatewayKey, user: String?, requestedModel: String, servedModel: String, provider: String,
        stream: Bool, promptText: String? = nil, tagsJSON: String? = nil, featuresJSON: String? = nil,
        requestedPrice: ModelPrice? = nil
    ) {
        self.requestID = requestID
        self.keyID = key.id
        self.team = key.team
        self.user = user
        self.requestedModel = requestedModel
        self.servedModel = servedModel
        self.provider = provider
        self.stream = stream
        self.promptText = promptText
        self.tagsJSON = tagsJSON
        self.featuresJSON = featuresJSON
        self.requestedPrice = requestedPrice
    }
}

/// Tracks one request from arrival to the end of its response body (streams included) and
/// accounts for it exactly once: in-flight gauge, count and duration, the settlement of its
/// budget claim and its ledger row. If the response is dropped without being written (the
/// client left first), `deinit` still accounts for it, as a client abort (499).
final class RequestObservation: Sendable {
    /// What is learned while the request runs.
    struct Progress: Sendable {
        var ticket: CostTicket?
        var usage: TokenUsage?
        /// The provider answered with a success status: from then on the request costs money.
        var answered = false
        var upstreamLatency: Duration?
        var timeToFirstByte: Duration?
        var errorCode: String?
        /// What the client received (SSE events for streams), when `ledger.store_text` is on.
        var responseText: [UInt8]?
        /// The attempt that is running or answered: its model, provider and price.
        var served: Served?
        /// What earlier failed attempts cost (a provider that answered and then broke bills it).
        var spent = USD.zero
        var attempts = 0
        /// `model@provider: reason` of each failed attempt, `; ` between.
        var attemptErrors: String?
        var fallback = LedgerEntry.Fallback.none
        var cacheStatus = LedgerEntry.CacheStatus.miss
        /// What a cache hit saved.
        var cacheAvoided = USD.zero
        /// The stream broke after content reached the client.
        var truncated = false
    }

    /// The attempt whose answer the request gets: it decides the ledger's served model,
    /// provider and price, the metric label, and which deployment's in-flight count to end.
    struct Served: Sendable {
        var model: String
        var provider: String
        var metricLabel: String
        var price: ModelPrice
        var release: (@Sendable () -> Void)?
    }

    private let metrics: GatewayMetrics
    private let costs: CostControl?
    private let ledger: LedgerWriter?
    private let ledgerContext: LedgerContext?
    private let startTime = Date()
    private let route: String
    private let model: String
    private let start: ContinuousClock.Instant
    private let inFlight: Meter
    private let finished = Atomic<Bool>(false)
    private let progress = Mutex(Progress())
    private let onFinish: (@Sendable () -> Void)?
    /// The request's spans (traces on): the root ends with the request.
    private let trace: RequestTrace?

    init(
        metrics: GatewayMetrics, costs: CostControl? = nil, ledger: LedgerWriter? = nil, context: LedgerContext? = nil,
        route: String, model: String, start: ContinuousClock.Instant, trace: RequestTrace? = nil, onFinish: (@Sendable () -> Void)? = nil
    ) {
        self.trace = trace
        self.metrics = metrics
        self.costs = costs
        self.ledger = ledger
        self.ledgerContext = context
        self.onFinish = onFinish
        self.route = route
        self.model = model
        self.start = start
        self.inFlight = metrics.inFlight(route: route, model: model)
        self.inFlight.increment()
    }

    var elapsed: Duration { ContinuousClock.now - self.start }

    /// The admitted claim this request must settle.
    func admitted(_ ticket: CostTicket) {
        self.progress.withLock { $0.ticket = ticket }
    }

    /// An attempt starts on `served`: until another does, it is the one that answers.
    func attempting(_ served: Served) {
        self.progress.withLock { progress in
            progress.served = served
            progress.attempts += 1
            progress.answered = false
            progress.upstreamLatency = nil
        }
    }

    /// The running attempt failed; `charge` is what the provider may have billed for it.
    func attemptFailed(_ failure: AttemptFailure, charge: USD) {
        let release = self.progress.withLock { progress -> (@Sendable () -> Void)? in
            let served = progress.served
            progress.spent += charge
            progress.answered = false
            let line = "\(served?.model ?? "?")@\(served?.provider ?? "?"): \(failure.label)"
            progress.attemptErrors = progress.attemptErrors.map { $0 + "; " + line } ?? line
            progress.served?.release = nil
            return served?.release
        }
        release?()
    }

    /// The step of the chain that answers (`X-Tollgate-Fallback`).
    func answered(by step: LedgerEntry.Fallback) {
        self.progress.withLock { $0.fallback = step }
    }

    /// A template answers: no provider, no cost.
    func answeredByTemplate() {
        self.progress.withLock { progress in
            progress.fallback = .template
            progress.served = Served(model: self.ledgerContext?.requestedModel ?? "template", provider: "template", metricLabel: "template", price: .free)
            progress.usage = nil
            progress.answered = false
        }
    }

    /// The cache answers: no provider, no cost.
    func answeredFromCache(_ status: LedgerEntry.CacheStatus, model: String, avoided: USD) {
        self.progress.withLock { progress in
            progress.cacheStatus = status
            progress.cacheAvoided = avoided
            progress.served = Served(model: model, provider: "cache", metricLabel: "cache", price: .free)
            progress.usage = nil
            progress.answered = false
        }
    }

    /// The usage the answering attempt reported, once it did.
    var usage: TokenUsage? {
        self.progress.withLock { $0.usage }
    }

    /// The stream broke after the client got content from it.
    func truncated() {
        self.progress.withLock { $0.truncated = true }
    }

    /// The model of the attempt that ran last, if any.
    var servedModel: String? {
        self.progress.withLock { $0.served?.model }
    }

    /// What failed attempts have cost so far, and the reservation every attempt must stay
    /// within (nil when no daily budget applies to the request).
    var budgetLeft: (spent: USD, reserved: USD?) {
        self.progress.withLock { progress in
            let budgeted = progress.ticket?.claim.scopes.contains { $0.limits.dailyBudget != nil } ?? false
            return (progress.spent, budgeted ? progress.ticket?.claim.reservation : nil)
        }
    }

    /// The provider's status line arrived.
    func upstreamResponded(status: Int) {
        let elapsed = self.elapsed
        self.progress.withLock {
            $0.upstreamLatency = elapsed
            $0.answered = (200..<300).contains(status)
        }
    }

    func firstByte() {
        let elapsed = self.elapsed
        self.progress.withLock { $0.timeToFirstByte = elapsed }
    }

    func record(usage: TokenUsage?) {
        guard let usage else { return }
        self.progress.withLock { $0.usage = usage }
    }

    /// What the request costs given what is known now (the whole cost once usage arrived).
    var cost: USD {
        self.progress.withLock { Self.cost(of: $0) }
    }

    /// Failed attempts' charges, plus the answering attempt's usage at its model's price (a
    /// provider answer without usage is charged what the reservation still covers).
    private static func cost(of progress: Progress) -> USD {
        guard let ticket = progress.ticket else { return .zero }
        let price = progress.served?.price ?? ticket.price
        let answer: USD
        if let usage = progress.usage {
            answer = price.cost(of: usage)
        } else {
            answer = progress.answered ? max(.zero, ticket.claim.reservation - progress.spent) : .zero
        }
        return progress.spent + answer
    }

    /// Whether the ledger keeps this request's text (`ledger.store_text`).
    var keepsText: Bool { self.ledgerContext?.promptText != nil }

    /// Keeps what the client received, up to `LedgerContext.textLimit`, when the ledger stores text.
    func recordResponse(_ bytes: ByteBuffer) {
        guard self.keepsText else { return }
        self.progress.withLock { progress in
            var text = progress.responseText ?? []
            let room = LedgerContext.textLimit - text.count
            guard room > 0 else { return }
            text.append(contentsOf: bytes.readableBytesView.prefix(room))
            progress.responseText = text
        }
    }

    /// The request failed with `error` (recorded as the ledger row's error code).
    func failed(_ error: GatewayError) {
        self.progress.withLock { $0.errorCode = error.code ?? error.type }
    }

    /// Finishes a request that failed with `error`.
    func finish(failing error: GatewayError) {
        self.failed(error)
        self.finish(status: error.status)
    }

    func finish(status: Int) {
        guard !self.finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let elapsed = self.elapsed
        self.inFlight.decrement()
        self.onFinish?()
        let progress = self.progress.withLock { $0 }
        progress.served?.release?()
        self.metrics.recordRequest(route: self.route, model: progress.served?.metricLabel ?? self.model, status: status, duration: elapsed)
        let cost = Self.cost(of: progress)
        if let ticket = progress.ticket, let costs = self.costs {
            costs.settle(ticket, usage: progress.usage, cost: cost)
        }
        if let ledger = self.ledger, let context = self.ledgerContext {
            let span = self.trace?.child("ledger write")
            // Never blocks the request path; a full queue gets the row through a task instead.
            // Built in the call, not kept in a variable the task below would capture: the
            // entry is then only borrowed here (a copy retains each of its strings).
            let queued = ledger.tryRecord(self.ledgerEntry(context, progress: progress, status: status, cost: cost, elapsed: elapsed))
            if !queued {
                let entry = self.ledgerEntry(context, progress: progress, status: status, cost: cost, elapsed: elapsed)
                Task { await ledger.record(entry) }
            }
            // The row is queued for the writer's next batch (or waits for room: never dropped).
            span?.attributes["tollgate.ledger.queued"] = queued
            span?.end()
        }
        self.trace?.finish { root in Self.describe(root, progress: progress, status: status, cost: cost) }
    }

    /// The root span's outcome: GenAI semantic-convention attributes plus the gateway's own.
    private static func describe(_ root: any Span, progress: Progress, status: Int, cost: USD) {
        root.attributes["http.response.status_code"] = status
        if let served = progress.served {
            root.attributes["gen_ai.response.model"] = served.model
            root.attributes["gen_ai.provider.name"] = served.provider
        }
        if let usage = progress.usage {
            root.attributes["gen_ai.usage.input_tokens"] = usage.inputTokens
            root.attributes["gen_ai.usage.output_tokens"] = usage.outputTokens
        }
        root.attributes["tollgate.cost_usd"] = cost.dollars
        root.attributes["tollgate.cache"] = progress.cacheStatus.rawValue
        root.attributes["tollgate.fallback"] = progress.fallback.rawValue
        root.attributes["tollgate.attempts"] = progress.attempts
        if progress.truncated { root.attributes["tollgate.truncated"] = true }
        if status >= 400 {
            root.attributes["error.type"] = progress.errorCode ?? (status == 499 ? "client_closed_request" : String(status))
        }
        // Server spans mark only the gateway's own failures as errors (OpenTelemetry HTTP conventions).
        if status >= 500 { root.setStatus(SpanStatus(code: .error)) }
    }

    /// One initializer call, no mutations after it: built field by field, the entry was
    /// copied whole once more (a retain and a release per string) on its way out.
    private func ledgerEntry(_ context: LedgerContext, progress: Progress, status: Int, cost: USD, elapsed: Duration) -> LedgerEntry {
        LedgerEntry(
            timeMs: Int64(self.startTime.timeIntervalSince1970 * 1000), requestID: context.requestID, keyID: context.keyID,
            team: context.team, user: context.user, route: self.route, requestedModel: context.requestedModel,
            servedModel: progress.served?.model ?? context.servedModel, provider: progress.served?.provider ?? context.provider,
            inputTokens: progress.usage?.inputTokens ?? 0,
            cachedInputTokens: progress.usage?.cachedInputTokens ?? 0, outputTokens: progress.usage?.outputTokens ?? 0,
            costNanodollars: cost.nanos, cacheStatus: progress.cacheStatus,
            cacheAvoidedNanodollars: progress.cacheAvoided.nanos,
            requestedCostNanodollars: progress.cacheStatus == .miss ? progress.usage.flatMap { usage in context.requestedPrice?.cost(of: usage).nanos } : nil,
            failedAttemptsNanodollars: progress.spent.nanos, fallback: progress.fallback, attempts: progress.attempts, attemptErrors: progress.attemptErrors,
            truncated: progress.truncated, httpStatus: status,
            errorCode: status >= 400 ? (progress.errorCode ?? (status == 499 ? "client_closed_request" : nil)) : nil,
            stream: context.stream, latencyMs: Int(elapsed.milliseconds),
            upstreamLatencyMs: progress.upstreamLatency.map { Int($0.milliseconds) },
            timeToFirstTokenMs: progress.timeToFirstByte.map { Int($0.milliseconds) }, featuresJSON: context.featuresJSON,
            tagsJSON: context.tagsJSON, promptText: context.promptText, responseText: progress.responseText.map { String(decoding: $0, as: UTF8.self) }
        )
    }

    deinit {
        self.finish(status: 499)
    }
}
