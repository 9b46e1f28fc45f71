import CoreMetrics
import Metrics
import Prometheus
import Synchronization
import TollgateCore

/// The gateway's metrics, created once per label set and reused, so recording a request
/// costs a dictionary lookup instead of a registry round trip. Label values are bounded:
/// route names, configured model names or patterns, status codes.
public final class GatewayMetrics: Sendable {
    /// Bootstraps swift-metrics with a Prometheus registry once per process and returns the
    /// registry `/metrics` renders.
    public static let prometheusRegistry: PrometheusCollectorRegistry = {
        var factory = PrometheusMetricsFactory()
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(120),
        ]
        MetricsSystem.bootstrap(factory)
        return factory.registry
    }()

    private struct RequestLabels: Hashable {
        var route: String
        var model: String
        var status: Int
    }

    private struct RouteModel: Hashable {
        var route: String
        var model: String
    }

    private let requestHandles = Mutex<[RequestLabels: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])
    private let inFlightHandles = Mutex<[RouteModel: CoreMetrics.Meter]>([:])
    private let upstreamHandles = Mutex<[RouteModel: (CoreMetrics.Timer, CoreMetrics.Timer)]>([:])

    public init() {}

    /// Counts a finished request and records how long it took (to the end of its stream).
    func recordRequest(route: String, model: String, status: Int, duration: Duration) {
        let labels = RequestLabels(route: route, model: model, status: status)
        let (counter, timer) = self.requestHandles.withLock { handles in
            if let existing = handles[labels] { return existing }
            let dimensions = [("route", route), ("model", model), ("status", String(status))]
            let created = (
                CoreMetrics.Counter(label: "tollgate_requests_total", dimensions: dimensions),
                CoreMetrics.Timer(label: "tollgate_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            )
            handles[labels] = created
            return created
        }
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
    }

    /// The in-flight gauge for a route and model.
    func inFlight(route: String, model: String) -> CoreMetrics.Meter {
        self.inFlightHandles.withLock { handles in
            let key = RouteModel(route: route, model: model)
            if let existing = handles[key] { return existing }
            let meter = CoreMetrics.Meter(label: "tollgate_requests_in_flight", dimensions: [("route", route), ("model", model)])
            handles[key] = meter
            return meter
        }
    }

    /// Time from sending a request upstream to the provider's response headers.
    func recordUpstreamLatency(provider: String, model: String, duration: Duration) {
        self.upstreamTimers(provider: provider, model: model).0.recordNanoseconds(duration.nanoseconds)
    }

    /// Time from receiving a streaming request to relaying its first body byte.
    func recordTimeToFirstByte(provider: String, model: String, duration: Duration) {
        self.upstreamTimers(provider: provider, model: model).1.recordNanoseconds(duration.nanoseconds)
    }

    private func upstreamTimers(provider: String, model: String) -> (CoreMetrics.Timer, CoreMetrics.Timer) {
        self.upstreamHandles.withLock { handles in
            let key = RouteModel(route: provider, model: model)
            if let existing = handles[key] { return existing }
            let dimensions = [("provider", provider), ("model", model)]
            let created = (
                CoreMetrics.Timer(label: "tollgate_upstream_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds),
                CoreMetrics.Timer(label: "tollgate_stream_first_byte_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            )
            handles[key] = created
            return created
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension GatewayMetrics {
    private static let ledgerRowsWritten = Gauge(label: "tollgate_ledger_rows_written")
    private static let ledgerQueueDepth = Gauge(label: "tollgate_ledger_queue_depth")
    private static let ledgerWriteFailures = Gauge(label: "tollgate_ledger_write_failures")
    private static let ledgerRowsLost = Gauge(label: "tollgate_ledger_rows_lost")
    private static let ledgerRowsSpilled = Gauge(label: "tollgate_ledger_rows_spilled")

    /// The ledger writer keeps plain counters; they are copied into gauges at each scrape.
    func recordLedger(_ ledger: LedgerWriter) {
        Self.ledgerRowsWritten.record(ledger.rowsWritten)
        Self.ledgerQueueDepth.record(ledger.queueDepth)
        Self.ledgerWriteFailures.record(ledger.writeFailures)
        Self.ledgerRowsLost.record(ledger.rowsLost)
        Self.ledgerRowsSpilled.record(ledger.rowsSpilled)
    }
}
