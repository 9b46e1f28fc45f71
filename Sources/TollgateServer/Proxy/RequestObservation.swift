import Metrics
import Synchronization
import TollgateCore

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
    }

    private let metrics: GatewayMetrics
    private let costs: CostControl?
    private let route: String
    private let model: String
    private let start: ContinuousClock.Instant
    private let inFlight: Meter
    private let finished = Atomic<Bool>(false)
    private let progress = Mutex(Progress())
    private let onFinish: (@Sendable () -> Void)?

    init(
        metrics: GatewayMetrics, costs: CostControl? = nil, route: String, model: String, start: ContinuousClock.Instant,
        onFinish: (@Sendable () -> Void)? = nil
    ) {
        self.metrics = metrics
        self.costs = costs
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
        self.progress.withLock { $0.usage = usage }
    }

    /// What the request costs given what is known now (the whole cost once usage arrived).
    var cost: USD {
        self.progress.withLock { progress in
            progress.ticket?.cost(of: progress.usage, answered: progress.answered) ?? .zero
        }
    }

    func finish(status: Int) {
        guard !self.finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.inFlight.decrement()
        self.onFinish?()
        self.metrics.recordRequest(route: self.route, model: self.model, status: status, duration: self.elapsed)
        let progress = self.progress.withLock { $0 }
        if let ticket = progress.ticket, let costs = self.costs {
            costs.settle(ticket, usage: progress.usage, cost: ticket.cost(of: progress.usage, answered: progress.answered))
        }
    }

    deinit {
        self.finish(status: 499)
    }
}
