import Foundation
import HTTPTypes
import Logging
import OTel
import ServiceLifecycle
import Synchronization
import TollgateCore
import Tracing

/// OpenTelemetry traces of proxied requests, exported over OTLP/HTTP by swift-otel. One
/// tracer per gateway (`OTel.makeTracingBackend`, no global bootstrap), so that several
/// gateways in one process each export to their own collector. Off (nil) without an endpoint.
struct GatewayTracing: Sendable {
    let tracer: any Tracer
    /// Prompt text goes into spans only when the operator keeps it in the ledger too.
    let recordsText: Bool

    /// The tracer and the service that exports its spans (it must run for spans to leave),
    /// or nil when no OTLP endpoint is configured.
    static func make(_ config: GatewayConfig, environment: [String: String], logger: Logger) throws -> (GatewayTracing, any Service)? {
        guard let endpoint = config.telemetry.tracesEndpoint(environment: environment),
            environment["OTEL_SDK_DISABLED"]?.lowercased() != "true"
        else { return nil }
        var otel = OTel.Configuration.default
        otel.serviceName = config.telemetry.serviceName
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.propagators = [.traceContext]
        otel.diagnosticLogger = .custom(logger)
        otel.diagnosticLogLevel = .warning
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.endpoint = endpoint
        otel.traces.otlpExporter.protocol = config.telemetry.otlpProtocol == .httpJSON ? .httpJSON : .httpProtobuf
        otel.traces.batchSpanProcessor.scheduleDelay = config.telemetry.exportInterval
        let backend = try OTel.makeTracingBackend(configuration: otel)
        logger.info("exporting traces", metadata: ["endpoint": "\(endpoint)", "protocol": "\(config.telemetry.otlpProtocol.rawValue)"])
        return (GatewayTracing(tracer: backend.factory, recordsText: config.ledger.storeText), backend.service)
    }

    /// Starts the request's root span (kind server), child of the client's `traceparent`.
    func startRequest(_ operation: String, headers: HTTPFields, requestID: String) -> RequestTrace {
        var context = ServiceContext.topLevel
        self.tracer.extract(headers, into: &context, using: HTTPFieldsExtractor())
        let root = self.tracer.startSpan(operation, context: context, ofKind: .server)
        root.attributes["tollgate.request_id"] = requestID
        root.attributes["gen_ai.operation.name"] = "chat"
        return RequestTrace(tracer: self.tracer, root: root, recordsText: self.recordsText)
    }
}

/// One request's spans: the root and its children. The root ends once, when the response
/// (a stream included) is over or the request fails before it has one.
final class RequestTrace: Sendable {
    let tracer: any Tracer
    let root: any Span
    let recordsText: Bool
    private let ended = Atomic<Bool>(false)

    init(tracer: any Tracer, root: any Span, recordsText: Bool) {
        self.tracer = tracer
        self.root = root
        self.recordsText = recordsText
    }

    /// What the request asked for and how it was routed, on the root span. The prompt's text
    /// only when the ledger keeps text too.
    func describe(_ ingress: IngressRequest, routed: RoutedRequest, key: GatewayKey) {
        let root = self.root
        root.attributes["gen_ai.request.model"] = ingress.model
        if let maxTokens = routed.features.maxTokens { root.attributes["gen_ai.request.max_tokens"] = maxTokens }
        root.attributes["tollgate.route"] = routed.decision.route
        root.attributes["tollgate.routed_model"] = routed.decision.model
        root.attributes["tollgate.key_id"] = key.id
        if let team = key.team { root.attributes["tollgate.team"] = team }
        root.attributes["tollgate.stream"] = ingress.isStreaming
        root.attributes["tollgate.prompt_tokens"] = routed.features.promptTokens
        guard self.recordsText else { return }
        if !routed.features.systemPrompt.isEmpty {
            root.attributes["gen_ai.system_instructions"] = Self.messagesJSON(role: "system", routed.features.systemPrompt)
        }
        root.attributes["gen_ai.input.messages"] = Self.messagesJSON(role: "user", routed.features.lastUserMessage)
    }

    /// One message in the GenAI conventions' shape: `[{"role":..,"parts":[{"type":"text","content":..}]}]`.
    private static func messagesJSON(role: String, _ text: String) -> String {
        let message: [String: Any] = ["role": role, "parts": [["type": "text", "content": text]]]
        let data = (try? JSONSerialization.data(withJSONObject: [message], options: [.sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A child of the root span; the caller ends it.
    func child(_ name: String, kind: SpanKind = .internal) -> any Span {
        self.tracer.startSpan(name, context: self.root.context, ofKind: kind)
    }

    /// Runs `body` in a child span named `name`.
    func span<T>(_ name: String, _ body: (any Span) async throws -> T) async rethrows -> T {
        let span = self.child(name)
        defer { span.end() }
        return try await body(span)
    }

    /// The `traceparent` (and `tracestate`) that makes the provider's work a child of `span`.
    func propagationHeaders(for span: any Span) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        self.tracer.inject(span.context, into: &headers, using: HeaderPairsInjector())
        return headers
    }

    /// Sets the root's attributes and ends it, the first time only.
    func finish(_ describe: (any Span) -> Void) {
        guard !self.ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        describe(self.root)
        self.root.end()
    }

    /// Ends the root for a request refused before it was routed or answered.
    func fail(_ error: GatewayError) {
        self.finish { root in
            root.attributes["http.response.status_code"] = error.status
            root.attributes["error.type"] = error.code ?? error.type
            root.setStatus(SpanStatus(code: .error, message: error.message))
        }
    }
}

struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}

struct HeaderPairsInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [(name: String, value: String)]) {
        carrier.append((key, value))
    }
}
