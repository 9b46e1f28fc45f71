import Metrics
import Synchronization

/// Tracks one request from arrival to the end of its response body (streams included) and
/// records it once: in-flight gauge, count and duration. If the response is dropped without
/// being written (the client left first), `deinit` still records it, as a client abort (499).
final class RequestObservation: Sendable {
    private let metrics: GatewayMetrics
    private let route: String
    private let model: String
    private let start: ContinuousClock.Instant
    private let inFlight: Meter
    private let finished = Atomic<Bool>(false)
    private let onFinish: (@Sendable () -> Void)?

    init(metrics: GatewayMetrics, route: String, model: String, start: ContinuousClock.Instant, onFinish: (@Sendable () -> Void)? = nil) {
        self.metrics = metrics
        self.onFinish = onFinish
        self.route = route
        self.model = model
        self.start = start
        self.inFlight = metrics.inFlight(route: route, model: model)
        self.inFlight.increment()
    }

    var elapsed: Duration { ContinuousClock.now - self.start }

    func finish(status: Int) {
        guard !self.finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.inFlight.decrement()
        self.onFinish?()
        self.metrics.recordRequest(route: self.route, model: self.model, status: status, duration: self.elapsed)
    }

    deinit {
        self.finish(status: 499)
    }
}
