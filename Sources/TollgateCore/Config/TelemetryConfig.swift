import Foundation

/// `telemetry:` in tollgate.yaml: OpenTelemetry traces, off until an OTLP endpoint is given
/// here or in the standard `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
public struct TelemetryConfig: Sendable, Equatable, Decodable {
    /// How spans are encoded on OTLP/HTTP.
    public enum OTLPProtocol: String, Sendable, Equatable, Decodable, CaseIterable {
        case httpProtobuf = "http/protobuf"
        case httpJSON = "http/json"
    }

    /// The collector's base URL (`/v1/traces` is appended unless the URL ends with it).
    public var otlpEndpoint: String?
    public var otlpProtocol: OTLPProtocol = .httpProtobuf
    /// `service.name` of the spans.
    public var serviceName: String = "tollgate"
    /// How long finished spans wait to be sent together.
    public var exportInterval: Duration = .seconds(5)

    public init(otlpEndpoint: String? = nil, otlpProtocol: OTLPProtocol = .httpProtobuf, serviceName: String = "tollgate", exportInterval: Duration = .seconds(5)) {
        self.otlpEndpoint = otlpEndpoint
        self.otlpProtocol = otlpProtocol
        self.serviceName = serviceName
        self.exportInterval = exportInterval
    }

    /// The traces endpoint, or nil when traces are off: this config's, else the environment's.
    public func tracesEndpoint(environment: [String: String]) -> String? {
        if let specific = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !specific.isEmpty { return specific }
        guard let base = self.otlpEndpoint ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        if base.hasSuffix("/v1/traces") { return base }
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/v1/traces"
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case otlpEndpoint = "otlp_endpoint"
        case otlpProtocol = "otlp_protocol"
        case serviceName = "service_name"
        case exportInterval = "export_interval"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let endpoint = try container.decodeIfPresent(String.self, forKey: .otlpEndpoint).nonEmpty {
            guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .otlpEndpoint, in: container, debugDescription: "'\(endpoint)' is not an http(s) URL (e.g. http://otel-collector:4318)"
                )
            }
            self.otlpEndpoint = endpoint
        }
        if let name = try container.decodeIfPresent(String.self, forKey: .otlpProtocol).nonEmpty {
            guard let parsed = OTLPProtocol(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .otlpProtocol, in: container,
                    debugDescription: "unknown protocol '\(name)' (one of \(OTLPProtocol.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            self.otlpProtocol = parsed
        }
        self.serviceName = try container.decodeIfPresent(String.self, forKey: .serviceName).nonEmpty ?? "tollgate"
        if let interval = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .exportInterval) {
            guard interval.duration > .zero else {
                throw DecodingError.dataCorruptedError(forKey: .exportInterval, in: container, debugDescription: "must be above 0")
            }
            self.exportInterval = interval.duration
        }
    }
}
