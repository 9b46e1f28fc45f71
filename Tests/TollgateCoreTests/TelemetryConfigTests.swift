import Testing
@testable import TollgateCore

@Suite struct TelemetryConfigTests {
    @Test func tracesAreOffUntilAnEndpointIsGivenHereOrInTheStandardVariables() throws {
        #expect(TelemetryConfig().tracesEndpoint(environment: [:]) == nil)
        #expect(TelemetryConfig().tracesEndpoint(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": ""]) == nil)
        #expect(TelemetryConfig().tracesEndpoint(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"]) == "http://c:4318/v1/traces")
        #expect(TelemetryConfig().tracesEndpoint(environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:1/x"]) == "http://c:1/x")
        let configured = TelemetryConfig(otlpEndpoint: "http://collector:4318/")
        #expect(configured.tracesEndpoint(environment: [:]) == "http://collector:4318/v1/traces")
        #expect(TelemetryConfig(otlpEndpoint: "http://c/v1/traces").tracesEndpoint(environment: [:]) == "http://c/v1/traces")
    }

    @Test func theSectionIsCheckedWhenLoaded() throws {
        let config = try ConfigLoader.decode(
            GatewayConfig.self, yaml: "telemetry: { otlp_endpoint: 'http://c:4318', otlp_protocol: http/json, export_interval: 2s }",
            file: "t.yaml", environment: [:]
        )
        #expect(config.telemetry.otlpProtocol == .httpJSON && config.telemetry.exportInterval == .seconds(2))
        for bad in ["telemetry: { otlp_endpoint: 'ftp://c' }", "telemetry: { otlp_protocol: grpc }", "telemetry: { sample: 1 }"] {
            #expect(throws: ConfigError.self) { try ConfigLoader.decode(GatewayConfig.self, yaml: bad, file: "t.yaml", environment: [:]) }
        }
    }
}
