import Foundation
import Testing
import TollgateCore
import TollgateTestSupport

/// `POST /v1/messages` (Anthropic-format clients) to an Anthropic provider, and every error
/// on that path in Anthropic's shape.
@Suite struct MessagesIngressTests {
    static let hello = #"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hello there"}]}"#

    /// `error.type` of an Anthropic error body, or nil when the body is not one.
    static func anthropicError(_ reply: TestHTTPClient.Reply) -> (type: String?, message: String?)? {
        guard reply.json?["type"] as? String == "error", let error = reply.json?["error"] as? [String: Any] else { return nil }
        return (error["type"] as? String, error["message"] as? String)
    }

    @Test func passthroughKeepsTheBodyAndBetaHeaderAndPrices() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.messages(Self.hello, headers: [("anthropic-beta", "prompt-caching-2024-07-31")])
            #expect(reply.status == 200)
            #expect(reply.json?["type"] as? String == "message")
            #expect((reply.json?["content"] as? [[String: Any]])?.first?["text"] as? String == "Echo: hello there")
            #expect(reply.header("X-Tollgate-Model") == "claude-sonnet-4-5")
            #expect(reply.header("X-Tollgate-Route") == "default")

            let usage = try #require(reply.json?["usage"] as? [String: Any])
            let input = try #require(usage["input_tokens"] as? Int), output = try #require(usage["output_tokens"] as? Int)
            let expected = ModelPrice(inputPerMillion: 3, outputPerMillion: 15).cost(of: TokenUsage(inputTokens: input, outputTokens: output))
            #expect(reply.header("X-Tollgate-Cost-USD") == expected.description)

            let received = try #require(gateway.provider.received.last)
            #expect(received.path == "/v1/messages")
            #expect(received.body == Data(Self.hello.utf8), "nothing changed, so the exact bytes went upstream")
            #expect(received.headers["anthropic-beta"] == "prompt-caching-2024-07-31")
            #expect(received.headers["x-api-key"] == gateway.provider.apiKey)
            #expect(received.headers["anthropic-version"] == "2023-06-01")
            let headerText = received.headers.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
            #expect(!headerText.contains(gateway.secret))
            #expect(!reply.text.contains(gateway.provider.apiKey))
        }
    }

    @Test func bearerAuthAndEndUserFromMetadata() async throws {
        try await GatewayHarness.run(budgets: ["limits.yaml": "users:\n  \"*\": { rpm: 1 }\n"]) { gateway in
            let body = #"{"model":"claude-sonnet-4-5","max_tokens":64,"metadata":{"user_id":"alice"},"messages":[{"role":"user","content":"hi"}]}"#
            let headers = [("Authorization", "Bearer \(gateway.secret)"), ("Content-Type", "application/json")]
            let first = try await gateway.http.send("POST", "/v1/messages", headers: headers, body: Data(body.utf8))
            #expect(first.status == 200)
            // alice's per-user limit is spent; the 429 comes in Anthropic's shape.
            let second = try await gateway.http.send("POST", "/v1/messages", headers: headers, body: Data(body.utf8))
            #expect(second.status == 429)
            #expect(Self.anthropicError(second)?.type == "rate_limit_error")
            #expect(second.header("Retry-After") != nil)
            // Another user is not limited by alice's use.
            let bob = try await gateway.http.send(
                "POST", "/v1/messages", headers: headers + [("X-Tollgate-User", "bob")],
                body: Data(#"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#.utf8)
            )
            #expect(bob.status == 200)
        }
    }

    @Test func streamIsRelayedEventByEventWithToolUse() async throws {
        try await GatewayHarness.run { gateway in
            gateway.provider.setBehavior(.toolCalls(OpenAIToAnthropicTests.weather, text: "Let me check."), forModel: "claude-sonnet-4-5")
            let body = #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"weather?"}]}"#
            let reply = try await gateway.messages(body)
            #expect(reply.status == 200)
            #expect(reply.header("content-type")?.hasPrefix("text/event-stream") == true)
            let events = sseEvents(reply.text)
            #expect(events.first?.name == "message_start" && events.last?.name == "message_stop")
            let inputs = AnthropicStreamText.toolInputs(events)
            #expect(inputs.count == 2)
            #expect(sameJSON(inputs[0], OpenAIToAnthropicTests.weather[0].arguments))
        }
    }

    @Test func cappedModelIsReencoded() async throws {
        try await GatewayHarness.run { gateway in
            try gateway.writeRoutes("routes:\n  - { name: capped, default: true, target: passthrough, caps: { max_tokens: 16 } }\n")
            #expect(try await gateway.adminReload().status == 200)
            let reply = try await gateway.messages(#"{"model":"claude-sonnet-4-5","max_tokens":1000,"top_k":5,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(reply.status == 200)
            let sent = try #require(gateway.provider.received.last?.json)
            #expect(sent["max_tokens"] as? Int == 16)
            #expect(sent["top_k"] as? Int == 5, "Anthropic to Anthropic loses nothing")
        }
    }

    @Test func everyErrorComesInAnthropicsShape() async throws {
        try await GatewayHarness.run(configure: { $0.server.maxBodyBytes = 1024 }) { gateway in
            let noKey = try await gateway.http.send("POST", "/v1/messages", body: Data(Self.hello.utf8))
            #expect(noKey.status == 401 && Self.anthropicError(noKey)?.type == "authentication_error")
            #expect(noKey.header("X-Tollgate-Request-Id") != nil)

            let badKey = try await gateway.http.send("POST", "/v1/messages", headers: [("x-api-key", "tg-wrong")], body: Data(Self.hello.utf8))
            #expect(badKey.status == 401 && Self.anthropicError(badKey)?.type == "authentication_error")

            let (_, limited) = try gateway.keyStore.create(name: "haiku-only", allowedModels: ["claude-haiku-4-5"])
            let forbidden = try await gateway.http.send("POST", "/v1/messages", headers: [("x-api-key", limited)], body: Data(Self.hello.utf8))
            #expect(forbidden.status == 403 && Self.anthropicError(forbidden)?.type == "permission_error")

            let unknown = try await gateway.messages(#"{"model":"claude-nope","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(unknown.status == 404 && Self.anthropicError(unknown)?.type == "not_found_error")

            let noMax = try await gateway.messages(#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(noMax.status == 400 && Self.anthropicError(noMax)?.type == "invalid_request_error")
            #expect(Self.anthropicError(noMax)?.message?.contains("max_tokens") == true)

            let notJSON = try await gateway.messages("{nope")
            #expect(notJSON.status == 400 && Self.anthropicError(notJSON)?.type == "invalid_request_error")

            let huge = try await gateway.messages(#"{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":""# + String(repeating: "x", count: 4096) + #""}]}"#)
            #expect(huge.status == 413 && Self.anthropicError(huge)?.type == "request_too_large")

            gateway.provider.setBehavior(.overloaded, forModel: "claude-sonnet-4-5")
            let overloaded = try await gateway.messages(Self.hello)
            #expect(overloaded.status == 503 && Self.anthropicError(overloaded)?.type == "overloaded_error")

            gateway.provider.setBehavior(.rateLimited(retryAfter: 7), forModel: "claude-sonnet-4-5")
            let rateLimited = try await gateway.messages(Self.hello)
            #expect(rateLimited.status == 429 && rateLimited.header("Retry-After") == "7")
            #expect(Self.anthropicError(rateLimited)?.type == "rate_limit_error")

            let wrongKey = try await gateway.messages(#"{"model":"claude-wrong-key","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(wrongKey.status == 502 && Self.anthropicError(wrongKey)?.type == "api_error")
            #expect(!wrongKey.text.contains(GatewayHarness.wrongProviderKey))

            // Provider text that quotes the provider key reaches the client redacted.
            gateway.provider.setBehavior(
                .error(status: 400, type: "invalid_request_error", code: nil, message: "key \(gateway.provider.apiKey) may not do that"),
                forModel: "claude-sonnet-4-5"
            )
            let quoted = try await gateway.messages(Self.hello)
            #expect(quoted.status == 400 && Self.anthropicError(quoted)?.message == "key <redacted> may not do that")

            // The chat path still answers in OpenAI's shape.
            let chat = try await gateway.http.send("POST", "/v1/chat/completions", body: Data("{}".utf8))
            #expect(chat.status == 401 && chat.errorField.code == "missing_api_key")
        }
    }

    @Test func ledgerRowsForBothUpstreams() async throws {
        try await GatewayHarness.run { gateway in
            let claude = try await gateway.messages(
                #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"metadata":{"user_id":"hana"},"messages":[{"role":"user","content":"hi"}]}"#
            )
            let gpt = try await gateway.messages(#"{"model":"gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#)
            let refused = try await gateway.messages(#"{"model":"gpt-4o-mini","max_tokens":64,"top_k":3,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(claude.status == 200 && gpt.status == 200 && refused.status == 400)

            let rows = try await LedgerTests.rows(in: gateway, count: 3)
            let streamed = try #require(rows.first { $0.requestID == claude.header("X-Tollgate-Request-Id") })
            #expect(streamed.provider == "anthropic" && streamed.user == "hana" && streamed.stream)
            #expect(streamed.outputTokens > 0 && streamed.costNanodollars > 0)
            let translated = try #require(rows.first { $0.requestID == gpt.header("X-Tollgate-Request-Id") })
            #expect(translated.provider == "openai" && translated.servedModel == "gpt-4o-mini" && translated.inputTokens > 0)
            #expect(USD(nanos: translated.costNanodollars).description == gpt.header("X-Tollgate-Cost-USD"))
            let unsupported = try #require(rows.first { $0.requestID == refused.header("X-Tollgate-Request-Id") })
            #expect(unsupported.httpStatus == 400 && unsupported.errorCode == "unsupported_parameter" && unsupported.costNanodollars == 0)
        }
    }

    @Test func budgetExceededIsAnAnthropicRateLimitError() async throws {
        try await GatewayHarness.run(keyLimits: (rpm: nil, tpm: nil, maxConcurrent: nil, dailyBudgetUSD: 0.000001)) { gateway in
            let reply = try await gateway.messages(Self.hello)
            #expect(reply.status == 429)
            #expect(Self.anthropicError(reply)?.type == "rate_limit_error")
            #expect(Self.anthropicError(reply)?.message?.contains("budget") == true)
        }
    }

    @Test func failuresMidStreamAreErrorEvents() async throws {
        try await GatewayHarness.run { gateway in
            let body = #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#
            gateway.provider.setBehavior(.streamError(afterChunks: 2), forModel: "claude-sonnet-4-5")
            let providerError = sseEvents(try await gateway.messages(body).text)
            #expect(providerError.last?.name == "error")
            #expect(providerError.last?.data.contains("overloaded_error") == true)

            gateway.provider.setBehavior(.cutStream(afterChunks: 2), forModel: "claude-sonnet-4-5")
            let cut = sseEvents(try await gateway.messages(body).text)
            #expect(cut.last?.name == "error")
            #expect(cut.last?.data.hasPrefix(#"{"type":"error","error":{"type":"api_error""#) == true)
            #expect(!cut.contains { $0.name == "message_stop" })
        }
    }
}

/// Reads Anthropic stream events back.
enum AnthropicStreamText {
    static func objects(_ events: [(name: String?, data: String)]) -> [[String: Any]] {
        events.compactMap { try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any] }
    }

    static func text(_ events: [(name: String?, data: String)]) -> String {
        self.objects(events).compactMap { ($0["delta"] as? [String: Any])?["text"] as? String }.joined()
    }

    /// Each `tool_use` block's input, concatenated from its `input_json_delta`s, in block order.
    static func toolInputs(_ events: [(name: String?, data: String)]) -> [String] {
        var byIndex: [Int: String] = [:]
        for object in self.objects(events) {
            guard object["type"] as? String == "content_block_delta", let delta = object["delta"] as? [String: Any],
                delta["type"] as? String == "input_json_delta"
            else { continue }
            byIndex[object["index"] as? Int ?? 0, default: ""] += delta["partial_json"] as? String ?? ""
        }
        return byIndex.keys.sorted().map { byIndex[$0]! }
    }
}
