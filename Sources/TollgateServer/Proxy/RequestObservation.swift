import Foundation
import Metrics
import NIOCore
import Synchronization
import TollgateCore

/// Who and what a request was, for its ledger row.
struct LedgerContext: Sendable {
    var requestID: String
    /// The key's id and team, not the whole key: fewer references to retain per request.
    var keyID: String
    var team: String?
    var user: String?
    var requestedModel: String
    var servedModel: String
    var provider: String
    var stream: Bool
    /// The request body, kept only when `ledger.store_text` is on; nil otherwise.
    var promptText: String?

    /// The most of a prompt or response the ledger keeps.
    static let textLimit = 256 << 10

    init(
        requestID: String, key: GatewayKey, user: String?, requestedModel: String, servedModel: String, provider: String,
        stream: Bool, promptText: String? = nil
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
        var usageUnreliable = false
        /// What the client received (SSE events for streams), when `ledger.store_text` is on.
        var responseText: [UInt8]?
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

    init(
        metrics: GatewayMetrics, costs: CostControl? = nil, ledger: LedgerWriter? = nil, context: LedgerContext? = nil,
        route: String, model: String, start: ContinuousClock.Instant, onFinish: (@Sendable () -> Void)? = nil
    ) {
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
        self.progress.withLock { if !$0.usageUnreliable { $0.usage = usage } }
    }

    /// The usage report cannot be trusted (the stream broke): the request is charged its
    /// reservation, the most it could have cost.
    func chargeReservation() {
        self.progress.withLock {
            $0.usage = nil
            $0.usageUnreliable = true
        }
    }

    /// What the request costs given what is known now (the whole cost once usage arrived).
    var cost: USD {
        self.progress.withLock { progress in
            progress.ticket?.cost(of: progress.usage, answered: progress.answered) ?? .zero
        }
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
        self.metrics.recordRequest(route: self.route, model: self.model, status: status, duration: elapsed)
        let progress = self.progress.withLock { $0 }
        let cost = progress.ticket?.cost(of: progress.usage, answered: progress.answered) ?? .zero
        if let ticket = progress.ticket, let costs = self.costs {
            costs.settle(ticket, usage: progress.usage, cost: cost)
        }
        if let ledger = self.ledger, let context = self.ledgerContext {
            // Never blocks the request path; a full queue gets the row through a task instead.
            // Built in the call, not kept in a variable the task below would capture: the
            // entry is then only borrowed here (a copy retains each of its strings).
            if !ledger.tryRecord(self.ledgerEntry(context, progress: progress, status: status, cost: cost, elapsed: elapsed)) {
                let entry = self.ledgerEntry(context, progress: progress, status: status, cost: cost, elapsed: elapsed)
                Task { await ledger.record(entry) }
            }
        }
    }

    /// One initializer call, no mutations after it: built field by field, the entry was
    /// copied whole once more (a retain and a release per string) on its way out.
    private func ledgerEntry(_ context: LedgerContext, progress: Progress, status: Int, cost: USD, elapsed: Duration) -> LedgerEntry {
        LedgerEntry(
            timeMs: Int64(self.startTime.timeIntervalSince1970 * 1000), requestID: context.requestID, keyID: context.keyID,
            team: context.team, user: context.user, route: self.route, requestedModel: context.requestedModel,
            servedModel: context.servedModel, provider: context.provider, inputTokens: progress.usage?.inputTokens ?? 0,
            cachedInputTokens: progress.usage?.cachedInputTokens ?? 0, outputTokens: progress.usage?.outputTokens ?? 0,
            costNanodollars: cost.nanos, httpStatus: status,
            errorCode: status >= 400 ? (progress.errorCode ?? (status == 499 ? "client_closed_request" : nil)) : nil,
            stream: context.stream, latencyMs: Int(elapsed.milliseconds),
            upstreamLatencyMs: progress.upstreamLatency.map { Int($0.milliseconds) },
            timeToFirstTokenMs: progress.timeToFirstByte.map { Int($0.milliseconds) },
            promptText: context.promptText, responseText: progress.responseText.map { String(decoding: $0, as: UTF8.self) }
        )
    }

    deinit {
        self.finish(status: 499)
    }
}
