import Metrics
import Synchronization
import TollgateCore

/// What the fallback chain does, for `/metrics`: attempts by outcome, the step that answered
/// each request, and circuit breaker states and changes. Labels are route names, failure
/// labels, steps and deployment ids: all bounded by the configuration.
final class FallbackMetrics: Sendable {
    private let counters = Mutex<[String: Counter]>([:])
    private let circuitGauges = Mutex<[String: Gauge]>([:])

    init() {}

    /// One upstream attempt ended: `outcome` is `ok` or a failure label (`status_503`...).
    func attempt(route: String, outcome: String) {
        self.counter("tollgate_upstream_attempts_total", [("route", route), ("outcome", outcome)]).increment()
    }

    /// A request was answered by a fallback step (`retry`, `smaller-model`, `template`...).
    func answered(route: String, step: LedgerEntry.Fallback) {
        guard step != .none else { return }
        self.counter("tollgate_fallbacks_total", [("route", route), ("step", step.rawValue)]).increment()
    }

    /// A cache lookup: `exact` (a hit) or `miss`.
    func cache(route: String, result: String) {
        self.counter("tollgate_cache_lookups_total", [("route", route), ("result", result)]).increment()
    }

    /// A fallback model got the conversation without its oldest `messages` (context window).
    func trimmed(route: String, model: String, messages: Int) {
        self.counter("tollgate_context_trims_total", [("route", route), ("model", model)]).increment()
        self.counter("tollgate_context_trimmed_messages_total", [("route", route), ("model", model)]).increment(by: messages)
    }

    /// A circuit changed state; the gauge reads 0 closed, 1 half-open, 2 open.
    func circuit(_ deployment: String, became state: CircuitBreaker.State) {
        self.counter("tollgate_circuit_transitions_total", [("deployment", deployment), ("state", state.rawValue)]).increment()
        let gauge = self.circuitGauges.withLock { gauges in
            if let gauge = gauges[deployment] { return gauge }
            let gauge = Gauge(label: "tollgate_circuit_state", dimensions: [("deployment", deployment)])
            gauges[deployment] = gauge
            return gauge
        }
        gauge.record(state == .closed ? 0 : state == .halfOpen ? 1 : 2)
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = label + dimensions.map { "|" + $0.1 }.joined()
        return self.counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: label, dimensions: dimensions)
            counters[key] = counter
            return counter
        }
    }
}
