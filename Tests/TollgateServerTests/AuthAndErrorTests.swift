import Foundation
import NIOCore
import Testing
import TollgateUpstream
import TollgateCore
import TollgateTestSupport

@Suite struct AuthAndErrorTests {
    let hello = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#

    @Test func missingAndWrongKeysGet401() async throws {
        try await GatewayHarness.run { gateway in
            let none = try await gateway.http.send("POST", "/v1/chat/completions", body: Data(hello.utf8))
            #expect(none.status == 401)
            #expect(none.errorField.code == "missing_api_key")
            #expect(none.header("X-Tollgate-Request-Id") != nil)

            let wrong = try await gateway.http.send(
                "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer tg-not-a-real-key")], body: Data(hello.utf8)
            )
            #expect(wrong.status == 401)
            #expect(wrong.errorField.code == "invalid_api_key")
            #expect(gateway.provider.received.isEmpty)

            let viaXAPIKey = try await gateway.http.send("POST", "/v1/chat/completions", headers: [("x-api-key", gateway.secret)], body: Data(hello.utf8))
            #expect(viaXAPIKey.status == 200)
        }
    }

    @Test func revokedKeyStopsWorking() async throws {
        try await GatewayHarness.run { gateway in
            let (key, secret) = try gateway.keyStore.create(name: "short-lived")
            let before = try await gateway.http.send("GET", "/v1/models", headers: [("Authorization", "Bearer \(secret)")])
            #expect(before.status == 200)
            try await gateway.keyStore.revoke(id: key.id)
            // The gateway re-checks cached keys every 2 s.
            var status = 200
            for _ in 0..<40 where status == 200 {
                try await Task.sleep(for: .milliseconds(100))
                status = try await gateway.http.send("GET", "/v1/models", headers: [("Authorization", "Bearer \(secret)")]).status
            }
            #expect(status == 401)
        }
    }

    @Test func modelRestrictionsAndUnknownModels() async throws {
        try await GatewayHarness.run { gateway in
            let (_, limited) = try gateway.keyStore.create(name: "mini-only", allowedModels: ["gpt-4o-mini"])
            let headers = [("Authorization", "Bearer \(limited)")]
            let denied = try await gateway.http.send("POST", "/v1/chat/completions", headers: headers, body: Data(hello.utf8))
            #expect(denied.status == 403)
            #expect(denied.errorField.code == "model_not_allowed")

            let models = try await gateway.http.send("GET", "/v1/models", headers: headers)
            let ids = (models.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["gpt-4o-mini"])

            let unknown = try await gateway.chat(#"{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(unknown.status == 404)
            #expect(unknown.errorField.code == "model_not_found")
        }
    }

    @Test func providerWithoutKeyIs503AndNamedInReadiness() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(#"{"model":"keyless-model","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(reply.status == 503)
            #expect(reply.errorField.code == "provider_unavailable")
            #expect(reply.errorField.message?.contains("TEST_UNSET_KEY") == true)

            let ready = try await gateway.http.send("GET", "/health/ready")
            #expect(ready.status == 200)
            let providers = ready.json?["providers"] as? [String: [String: Any]]
            #expect(providers?["keyless"]?["available"] as? Bool == false)
            #expect(providers?["openai"]?["available"] as? Bool == true)
            #expect(try await gateway.http.send("GET", "/health/live").status == 200)
        }
    }

    @Test func providerErrorsAreMappedWithoutLeakingCredentials() async throws {
        try await GatewayHarness.run { gateway in
            gateway.provider.setBehavior(.rateLimited(retryAfter: 7), forModel: "gpt-4o")
            let limited = try await gateway.chat(hello)
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") == "7")
            #expect(limited.errorField.code == "rate_limit_exceeded")
            #expect(limited.errorField.message?.contains("org-fake") == false)
            // Still a proxied response: it says where it went and that it cost nothing.
            #expect(limited.header("X-Tollgate-Model") == "gpt-4o" && limited.header("X-Tollgate-Route") != nil)
            #expect(limited.header("X-Tollgate-Cost-USD") == "0.000000")

            gateway.provider.setBehavior(.error(status: 401, type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided: \(gateway.provider.apiKey)"), forModel: "gpt-4o")
            let auth = try await gateway.chat(hello)
            #expect(auth.status == 502)
            #expect(auth.errorField.code == "upstream_auth_failed")
            #expect(!auth.text.contains(gateway.provider.apiKey))

            gateway.provider.setBehavior(.error(status: 400, type: "invalid_request_error", code: "context_length_exceeded", message: "This model's maximum context length is 128000 tokens."), forModel: "gpt-4o")
            let invalid = try await gateway.chat(hello)
            #expect(invalid.status == 400)
            #expect(invalid.errorField.code == "context_length_exceeded")

            gateway.provider.setBehavior(.error(status: 500, type: "server_error", code: nil, message: "boom"), forModel: "gpt-4o")
            #expect(try await gateway.chat(hello).status == 502)

            gateway.provider.setBehavior(.error(status: 503, type: "server_error", code: nil, message: "overloaded"), forModel: "gpt-4o")
            #expect(try await gateway.chat(hello).status == 503)

            // The gateway keeps serving after all of that.
            gateway.provider.setBehavior(.normal, forModel: "gpt-4o")
            #expect(try await gateway.chat(hello).status == 200)
        }
    }

    /// A provider error event that quotes the provider key reaches the client scrubbed, in
    /// a pass-through stream and in a translated one, in both ingress formats.
    @Test func providerKeysNeverReachAClientInsideAStream() async throws {
        try await GatewayHarness.run { gateway in
            let key = gateway.provider.apiKey
            gateway.provider.setBehavior(.streamError(afterChunks: 2, echoingKey: true), forModel: "gpt-4o")
            gateway.provider.setBehavior(.streamError(afterChunks: 2, echoingKey: true), forModel: "claude-sonnet-4-5")
            let openAIStream = #"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
            let anthropicStream = #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#
            let transcripts = [
                try await gateway.chat(openAIStream).text,  // OpenAI pass-through
                try await gateway.messages(anthropicStream).text,  // Anthropic pass-through
                try await gateway.chat(openAIStream.replacingOccurrences(of: "gpt-4o", with: "claude-sonnet-4-5")).text,  // translated
                try await gateway.messages(anthropicStream.replacingOccurrences(of: "claude-sonnet-4-5", with: "gpt-4o")).text,  // translated
            ]
            for transcript in transcripts {
                #expect(!transcript.contains(key))
            }
            // The pass-throughs relay the provider's message, with the key cut out of it.
            #expect(transcripts[0].contains("request made with key <redacted>"))
            #expect(transcripts[1].contains("Overloaded (key <redacted>)"))
        }
    }

    @Test func unreachableAndSlowProviders() async throws {
        try await GatewayHarness.run(configure: { config in
            config.providers["openai"]?.timeouts.idle = .milliseconds(300)
            config.providers["dead"] = ProviderConfig(baseURL: "http://127.0.0.1:1/v1")
            config.models.insert(ModelMapping(name: "dead-model", provider: "dead"), at: 0)
        }) { gateway in
            let dead = try await gateway.chat(#"{"model":"dead-model","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(dead.status == 502)
            #expect(dead.errorField.code == "upstream_unreachable")

            gateway.provider.setBehavior(.delay(.seconds(3)), forModel: "gpt-4o")
            let slow = try await gateway.chat(hello)
            #expect(slow.status == 504)
            #expect(slow.errorField.code == "upstream_timeout")
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await GatewayHarness.run(configure: { $0.server.maxBodyBytes = 4096 }) { gateway in
            let big = #"{"model":"gpt-4o","messages":[{"role":"user","content":""# + String(repeating: "a", count: 10_000) + #""}]}"#
            let reply = try await gateway.chat(big)
            #expect(reply.status == 413)
            #expect(reply.errorField.code == "request_too_large")
            #expect(try await gateway.chat(hello).status == 200)
        }
    }

    @Test func unknownPathsAndMethods() async throws {
        try await GatewayHarness.run { gateway in
            let missing = try await gateway.http.send("POST", "/v1/completions-nope", headers: gateway.auth, body: Data("{}".utf8))
            #expect(missing.status == 404)
            #expect(missing.errorField.code == "unknown_url")
            let wrongMethod = try await gateway.http.send("GET", "/v1/chat/completions", headers: gateway.auth)
            #expect(wrongMethod.status == 404 || wrongMethod.status == 405)
            #expect(wrongMethod.json?["error"] != nil)
        }
    }

    @Test func clientRequestIDIsEchoedWhenSafe() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(hello, headers: [("X-Tollgate-Request-Id", "trace-abc_123")])
            #expect(reply.header("X-Tollgate-Request-Id") == "trace-abc_123")
            let unsafe = try await gateway.chat(hello, headers: [("X-Tollgate-Request-Id", "bad id\"<>")])
            #expect(unsafe.header("X-Tollgate-Request-Id")?.hasPrefix("req_") == true)
        }
    }
}
