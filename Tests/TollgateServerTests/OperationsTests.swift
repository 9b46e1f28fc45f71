import Foundation
import NIOCore
import Testing
import TollgateCore
import TollgateUpstream
import TollgateTestSupport

@Suite struct OperationsTests {
    @Test func aMetricsTokenGuardsMetrics() async throws {
        try await GatewayHarness.run(configure: { $0.metricsToken = "scrape-secret" }) { gateway in
            #expect(try await gateway.http.send("GET", "/metrics").status == 401)
            #expect(try await gateway.http.send("GET", "/metrics", headers: [("Authorization", "Bearer wrong")]).status == 401)
            let scraped = try await gateway.http.send("GET", "/metrics", headers: [("Authorization", "Bearer scrape-secret")])
            #expect(scraped.status == 200 && scraped.text.contains("tollgate_"))
            #expect(try await gateway.http.send("GET", "/health/live").status == 200, "probes stay open")
        }
    }

    @Test func metricsCountRequestsByRouteModelAndStatus() async throws {
        try await GatewayHarness.run { gateway in
            _ = try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
            _ = try await gateway.chat(#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
            let metrics = try await gateway.http.send("GET", "/metrics")
            #expect(metrics.status == 200)
            let text = metrics.text
            #expect(text.contains(#"tollgate_requests_total{route="default",model="gpt-4o-mini",status="200"}"#))
            #expect(text.contains("tollgate_request_duration_seconds_bucket"))
            #expect(text.contains("tollgate_upstream_duration_seconds"))
            #expect(text.contains("tollgate_stream_first_byte_seconds"))
            #expect(text.contains("tollgate_requests_in_flight"))
            #expect(!text.contains(gateway.provider.apiKey))
        }
    }

    @Test func modelsListsNamedAndProviderModels() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.http.send("GET", "/v1/models", headers: gateway.auth)
            #expect(reply.status == 200)
            #expect(reply.json?["object"] as? String == "list")
            let ids = Set((reply.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [])
            #expect(ids.isSuperset(of: ["gpt-4o", "gpt-4o-mini", "house-model", "text-embedding-3-small"]))
            // gpt-5* is a pattern: its concrete names come from the provider's own list.
            #expect(ids.contains("gpt-5-mini"))
            let one = try await gateway.http.send("GET", "/v1/models/gpt-4o", headers: gateway.auth)
            #expect(one.json?["id"] as? String == "gpt-4o")
            #expect(try await gateway.http.send("GET", "/v1/models/nope", headers: gateway.auth).status == 404)
        }
    }

    @Test func embeddingsAreProxied() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.http.send(
                "POST", "/v1/embeddings", headers: gateway.auth,
                body: Data(#"{"model":"text-embedding-3-small","input":["a","b"],"encoding_format":"float"}"#.utf8)
            )
            #expect(reply.status == 200)
            #expect((reply.json?["data"] as? [[String: Any]])?.count == 2)
            let chatModel = try await gateway.http.send(
                "POST", "/v1/embeddings", headers: gateway.auth, body: Data(#"{"model":"gpt-4o","input":"a"}"#.utf8)
            )
            #expect(chatModel.status == 404)
        }
    }
}

@Suite struct GracefulShutdownTests {
    @Test func inFlightStreamFinishesAfterShutdownStarts() async throws {
        try await GatewayHarness.run { gateway in
            gateway.provider.setBehavior(.slowStream(chunks: 15, interval: .milliseconds(100)), forModel: "gpt-4o")
            let response = try await gateway.http.open(
                "POST", "/v1/chat/completions", headers: gateway.auth,
                body: Data(#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}"#.utf8)
            )
            var iterator = response.body.makeAsyncIterator()
            let first = try #require(try await iterator.next())
            var text = String(buffer: first)
            await gateway.beginShutdown()
            while let chunk = try await iterator.next() { text += String(buffer: chunk) }
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            #expect(text.contains("word14"))
        }
    }
}

@Suite struct LocalEmbeddingsTests {
    @Test func localModelAnswersInProcess() async throws {
        try await GatewayHarness.run(localEmbeddings: true) { gateway in
            let reply = try await gateway.http.send(
                "POST", "/v1/embeddings", headers: gateway.auth,
                body: Data(#"{"model":"local/all-MiniLM-L6-v2","input":["How do I reset my password?","How can I change my password?","What is the capital of France?"]}"#.utf8)
            )
            #expect(reply.status == 200, "\(reply.text)")
            let data = try #require(reply.json?["data"] as? [[String: Any]])
            let vectors = data.compactMap { $0["embedding"] as? [Double] }
            #expect(vectors.count == 3)
            #expect(vectors.allSatisfy { $0.count == 384 })
            func cosine(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
            #expect(abs(cosine(vectors[0], vectors[0]) - 1) < 1e-4)
            // Paraphrases sit closer together than unrelated questions.
            #expect(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2)
            let usage = reply.json?["usage"] as? [String: Any]
            #expect((usage?["prompt_tokens"] as? Int ?? 0) > 10)
            #expect(gateway.provider.received.isEmpty)

            // base64, as the OpenAI SDK asks by default: little-endian float32.
            let encoded = try await gateway.http.send(
                "POST", "/v1/embeddings", headers: gateway.auth,
                body: Data(#"{"model":"local/all-MiniLM-L6-v2","input":"How do I reset my password?","encoding_format":"base64"}"#.utf8)
            )
            let base64 = try #require(((encoded.json?["data"] as? [[String: Any]])?.first?["embedding"]) as? String)
            let bytes = try #require(Data(base64Encoded: base64))
            let floats = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(floats.count == 384)
            #expect(abs(Double(floats[0]) - vectors[0][0]) < 1e-5)

            let tokens = try await gateway.http.send(
                "POST", "/v1/embeddings", headers: gateway.auth, body: Data(#"{"model":"local/all-MiniLM-L6-v2","input":[1,2,3]}"#.utf8)
            )
            #expect(tokens.status == 400)
            let models = try await gateway.http.send("GET", "/v1/models", headers: gateway.auth)
            #expect(models.text.contains("local/all-MiniLM-L6-v2"))
        }
    }

    @Test func missingModelIs503NamingTheSetupCommand() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.http.send(
                "POST", "/v1/embeddings", headers: gateway.auth, body: Data(#"{"model":"local/all-MiniLM-L6-v2","input":"x"}"#.utf8)
            )
            #expect(reply.status == 503)
            #expect(reply.errorField.message?.contains("scripts/setup-model.sh") == true)
            // The rest of the gateway serves.
            #expect(try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#).status == 200)
        }
    }
}
