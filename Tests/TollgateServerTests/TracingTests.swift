import Foundation
import Testing
import TollgateCore
import TollgateTestSupport

/// OpenTelemetry traces, received by a loopback OTLP/HTTP collector stand-in.
@Suite struct TracingTests {
    static let clientTrace = "0af7651916cd43dd8448eb211c80319c"
    static let clientSpan = "b7ad6b7169203331"

    /// A gateway exporting to `collector` as JSON, spans sent every 50 ms.
    static func withTracedGateway(
        _ collector: FakeCollector, storeText: Bool = false, _ body: @Sendable (GatewayHarness) async throws -> Void
    ) async throws {
        try await GatewayHarness.run(configure: { config in
            config.telemetry = TelemetryConfig(
                otlpEndpoint: collector.endpoint, otlpProtocol: .httpJSON, serviceName: "tollgate-test", exportInterval: .milliseconds(50)
            )
            config.ledger.storeText = storeText
        }, body)
    }

    /// The spans of one trace once its root has arrived (children end before it).
    static func trace(_ collector: FakeCollector, rootNamed name: String = "POST /v1/chat/completions", count: Int) async throws -> [FakeCollector.Span] {
        #expect(await waitUntil { collector.spans.filter { $0.name == name }.count >= count })
        return collector.spans
    }

    @Test func aRequestIsOneTraceUnderTheClientsWithChildSpansPerStage() async throws {
        try await FakeCollector.withRunning { collector in
            try await Self.withTracedGateway(collector) { gateway in
                let reply = try await gateway.chat(
                    #"{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"zq-secret-prompt"}]}"#,
                    headers: [("traceparent", "00-\(Self.clientTrace)-\(Self.clientSpan)-01")]
                )
                #expect(reply.status == 200)
                let spans = try await Self.trace(collector, count: 1)
                let root = try #require(spans.first { $0.name == "POST /v1/chat/completions" })
                #expect(root.traceID == Self.clientTrace && root.parentSpanID == Self.clientSpan && root.kind == 2)
                #expect(root.serviceName == "tollgate-test")
                #expect(root.attributes["gen_ai.operation.name"] == "chat" && root.attributes["gen_ai.request.model"] == "gpt-4o-mini")
                #expect(root.attributes["gen_ai.response.model"] == "gpt-4o-mini" && root.attributes["gen_ai.request.max_tokens"] == "50")
                #expect(Int(root.attributes["gen_ai.usage.input_tokens"] ?? "") ?? 0 > 0)
                #expect(Int(root.attributes["gen_ai.usage.output_tokens"] ?? "") ?? 0 > 0)
                #expect(Double(root.attributes["tollgate.cost_usd"] ?? "") ?? 0 > 0)
                #expect(root.attributes["tollgate.route"] == "default" && root.attributes["http.response.status_code"] == "200")
                #expect(root.attributes["tollgate.request_id"] == reply.header("X-Tollgate-Request-Id"))

                // Every stage is a child of the root, in the same trace.
                let children = spans.filter { $0.parentSpanID == root.spanID }
                #expect(Set(children.map(\.name)).isSuperset(of: ["routing", "admission", "chat gpt-4o-mini", "ledger write"]))
                #expect(children.allSatisfy { $0.traceID == Self.clientTrace })
                let attempt = try #require(children.first { $0.name == "chat gpt-4o-mini" })
                #expect(attempt.kind == 3 && attempt.attributes["gen_ai.provider.name"] == "openai")
                #expect(attempt.attributes["server.address"] == "127.0.0.1" && attempt.attributes["tollgate.attempt"] == "1")

                // The provider got the attempt's span as its parent.
                let sent = try #require(gateway.provider.received(forModel: "gpt-4o-mini").last)
                #expect(sent.headers["traceparent"] == "00-\(Self.clientTrace)-\(attempt.spanID)-01")

                // No prompt text while the ledger keeps none.
                #expect(!collector.bodies.contains { $0.contains("zq-secret-prompt") })
            }
        }
    }

    @Test func aFallbackShowsTheFailedAttemptAndWithoutATraceparentANewTraceStarts() async throws {
        try await FakeCollector.withRunning { collector in
            try await Self.withTracedGateway(collector, storeText: true) { gateway in
                try gateway.writeRoutes("""
                    routes:
                      - name: guarded
                        when: { feature: model, eq: gpt-4o }
                        target: gpt-4o
                        fallbacks: [gpt-4o-mini]
                      - { name: default, default: true, target: passthrough }
                    """)
                #expect(try await gateway.adminReload().status == 200)
                gateway.provider.setBehavior(.error(status: 500, type: "server_error", code: nil, message: "boom"), forModel: "gpt-4o")
                let reply = try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"zq-kept-prompt"}]}"#)
                #expect(reply.status == 200 && reply.header("X-Tollgate-Fallback") == "smaller-model")
                let spans = try await Self.trace(collector, count: 1)
                let root = try #require(spans.first { $0.name == "POST /v1/chat/completions" })
                #expect(root.parentSpanID == nil && root.traceID.count == 32 && root.traceID != Self.clientTrace)
                // A 500 is retried once on gpt-4o, then the chain moves on.
                #expect(root.attributes["tollgate.fallback"] == "smaller-model" && root.attributes["tollgate.attempts"] == "3")
                let attempts = spans.filter { $0.parentSpanID == root.spanID && $0.kind == 3 }
                #expect(attempts.map(\.name).sorted() == ["chat gpt-4o", "chat gpt-4o", "chat gpt-4o-mini"])
                let failed = attempts.filter { $0.name == "chat gpt-4o" }
                #expect(failed.allSatisfy { $0.statusCode == 2 && $0.attributes["error.type"] != nil })
                #expect(Set(failed.map { $0.attributes["tollgate.fallback_step"] ?? "" }) == ["none", "retry"])
                #expect(attempts.first { $0.name == "chat gpt-4o-mini" }?.attributes["tollgate.fallback_step"] == "smaller-model")
                // store_text is on: the prompt is in the root's attributes.
                #expect(root.attributes["gen_ai.input.messages"]?.contains("zq-kept-prompt") == true)
            }
        }
    }

    @Test func aRefusedRequestEndsItsTraceWithTheError() async throws {
        try await FakeCollector.withRunning { collector in
            try await Self.withTracedGateway(collector) { gateway in
                let reply = try await gateway.chat(#"{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}"#)
                #expect(reply.status == 404)
                let spans = try await Self.trace(collector, count: 1)
                let root = try #require(spans.first { $0.name == "POST /v1/chat/completions" })
                #expect(root.attributes["http.response.status_code"] == "404" && root.attributes["error.type"] != nil)
            }
        }
    }
}
