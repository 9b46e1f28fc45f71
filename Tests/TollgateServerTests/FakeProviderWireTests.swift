import Foundation
import NIOCore
import Testing
import TollgateCore
import TollgateTestSupport

/// The fake provider must speak each wire format the way the real provider does, since the
/// gateway's translation tests trust it. These tests talk to it directly and read its answers
/// with the gateway's own stream transcoders.
@Suite struct FakeProviderWireTests {
    static let weather = [
        FakeToolCall(name: "get_weather", arguments: #"{"location":"Paris, France","unit":"celsius"}"#),
        FakeToolCall(name: "get_weather", arguments: #"{"location":"Bogotá, Colombia","unit":"celsius"}"#),
    ]

    func anthropicHeaders(_ provider: FakeProvider) -> [(name: String, value: String)] {
        [("x-api-key", provider.apiKey), ("anthropic-version", "2023-06-01"), ("anthropic-beta", "prompt-caching-2024-07-31"),
         ("content-type", "application/json")]
    }

    @Test func anthropicMessageAndRecordedHeaders() async throws {
        try await GatewayHarness.run { gateway in
            let fake = TestHTTPClient(client: gateway.http.client, port: gateway.provider.port)
            gateway.provider.setBehavior(.promptCache(readTokens: 20, writeTokens: 5), forModel: "claude-sonnet-4-5")
            let body = #"{"model":"claude-sonnet-4-5","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"hello there"}]}"#
            let reply = try await fake.send("POST", "/v1/messages", headers: self.anthropicHeaders(gateway.provider), body: Data(body.utf8))
            #expect(reply.status == 200)
            #expect(reply.json?["type"] as? String == "message")
            #expect((reply.json?["content"] as? [[String: Any]])?.first?["text"] as? String == "Echo: hello there")
            #expect(reply.json?["stop_reason"] as? String == "end_turn")
            let usage = TokenUsage.fromAnthropicResponse(ByteBuffer(bytes: reply.body))
            #expect(usage?.cachedInputTokens == 20 && usage?.cacheWriteInputTokens == 5 && usage?.inputTokens == 25)
            let received = try #require(gateway.provider.received.last)
            #expect(received.path == "/v1/messages")
            #expect(received.headers["x-api-key"] == gateway.provider.apiKey)
            #expect(received.headers["anthropic-version"] == "2023-06-01")
            #expect(received.headers["anthropic-beta"] == "prompt-caching-2024-07-31")
        }
    }

    @Test func anthropicStreamWithParallelToolUse() async throws {
        try await GatewayHarness.run { gateway in
            let fake = TestHTTPClient(client: gateway.http.client, port: gateway.provider.port)
            gateway.provider.setBehavior(.toolCalls(Self.weather, text: "Let me check."), forModel: "claude-sonnet-4-5")
            let body = #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"weather?"}]}"#
            let reply = try await fake.send("POST", "/v1/messages", headers: self.anthropicHeaders(gateway.provider), body: Data(body.utf8))
            #expect(reply.header("content-type")?.hasPrefix("text/event-stream") == true)
            let names = reply.text.components(separatedBy: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(names.first == "message_start" && names.last == "message_stop" && names.contains("ping"))
            #expect(names.filter { $0 == "content_block_start" }.count == 3)
            #expect(reply.text.components(separatedBy: "input_json_delta").count - 1 >= 8, "arguments arrive in several deltas")

            var passthrough = AnthropicStreamPassthrough()
            var translator = AnthropicToOpenAIStream(model: "claude-sonnet-4-5", includeUsage: true)
            var output = ByteBuffer()
            var input = ByteBuffer(bytes: reply.body)
            var copy = input
            try passthrough.consume(&copy, into: &output)
            output.clear()
            try translator.consume(&input, into: &output)
            try translator.finish(into: &output)
            #expect(passthrough.usage?.outputTokens ?? 0 > 0)
            let chunks = String(buffer: output)
            #expect(chunks.contains(#""finish_reason":"tool_calls""#))
            #expect(chunks.contains(#""index":1,"id":"toolu_01"#), "the second tool_use block is tool call 1")
            #expect(chunks.hasSuffix("data: [DONE]\n\n"))

            // The next turn carries the tool results: the fake answers instead of calling again.
            let followUp = #"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"weather?"},"#
                + #"{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}]},"#
                + #"{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"14 degrees"}]}]}"#
            let answer = try await fake.send("POST", "/v1/messages", headers: self.anthropicHeaders(gateway.provider), body: Data(followUp.utf8))
            #expect((answer.json?["content"] as? [[String: Any]])?.first?["text"] as? String == "Tool said: 14 degrees")
        }
    }

    @Test func anthropicErrorsLookLikeAnthropics() async throws {
        try await GatewayHarness.run { gateway in
            let fake = TestHTTPClient(client: gateway.http.client, port: gateway.provider.port)
            let body = Data(#"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#.utf8)
            func errorType(_ reply: TestHTTPClient.Reply) -> String? { (reply.json?["error"] as? [String: Any])?["type"] as? String }

            let badKey = try await fake.send("POST", "/v1/messages", headers: [("x-api-key", "wrong"), ("anthropic-version", "2023-06-01")], body: body)
            #expect(badKey.status == 401 && errorType(badKey) == "authentication_error")
            let noVersion = try await fake.send("POST", "/v1/messages", headers: [("x-api-key", gateway.provider.apiKey)], body: body)
            #expect(noVersion.status == 400 && errorType(noVersion) == "invalid_request_error")
            let noMax = try await fake.send(
                "POST", "/v1/messages", headers: self.anthropicHeaders(gateway.provider),
                body: Data(#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}"#.utf8)
            )
            #expect(noMax.status == 400 && (noMax.json?["error"] as? [String: Any])?["message"] as? String == "max_tokens: Field required")

            gateway.provider.setBehavior(.overloaded, forModel: "claude-sonnet-4-5")
            let overloaded = try await fake.send("POST", "/v1/messages", headers: self.anthropicHeaders(gateway.provider), body: body)
            #expect(overloaded.status == 529 && errorType(overloaded) == "overloaded_error")
            let mapped = AnthropicProviderError.map(
                status: overloaded.status, body: ByteBuffer(bytes: overloaded.body), headers: overloaded.headers, provider: "anthropic", model: "claude-sonnet-4-5"
            )
            #expect(mapped.status == 503)

            gateway.provider.setBehavior(.rateLimited(retryAfter: 9), forModel: "claude-sonnet-4-5")
            let limited = try await fake.send("POST", "/v1/messages", headers: self.anthropicHeaders(gateway.provider), body: body)
            #expect(limited.status == 429 && limited.header("retry-after") == "9" && errorType(limited) == "rate_limit_error")

            gateway.provider.setBehavior(.streamError(afterChunks: 2), forModel: "claude-sonnet-4-5")
            let streamed = try await fake.send(
                "POST", "/v1/messages", headers: self.anthropicHeaders(gateway.provider),
                body: Data(#"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#.utf8)
            )
            #expect(streamed.text.contains("event: error\ndata: "))
            #expect(!streamed.text.contains("message_stop"))
        }
    }

    @Test func anthropicMaxTokensStopsTheAnswer() async throws {
        try await GatewayHarness.run { gateway in
            let fake = TestHTTPClient(client: gateway.http.client, port: gateway.provider.port)
            let body = #"{"model":"claude-sonnet-4-5","max_tokens":2,"messages":[{"role":"user","content":"one two three four"}]}"#
            let reply = try await fake.send("POST", "/v1/messages", headers: self.anthropicHeaders(gateway.provider), body: Data(body.utf8))
            #expect(reply.json?["stop_reason"] as? String == "max_tokens")
        }
    }

    @Test func openAIStreamsParallelToolCalls() async throws {
        try await GatewayHarness.run { gateway in
            let fake = TestHTTPClient(client: gateway.http.client, port: gateway.provider.port)
            gateway.provider.setBehavior(.toolCalls(Self.weather), forModel: "gpt-4o")
            let headers = [("Authorization", "Bearer \(gateway.provider.apiKey)"), ("content-type", "application/json")]
            let plain = try await fake.send(
                "POST", "/v1/chat/completions", headers: headers,
                body: Data(#"{"model":"gpt-4o","messages":[{"role":"user","content":"weather?"}]}"#.utf8)
            )
            let choice = (plain.json?["choices"] as? [[String: Any]])?.first
            #expect(choice?["finish_reason"] as? String == "tool_calls")
            #expect(((choice?["message"] as? [String: Any])?["tool_calls"] as? [Any])?.count == 2)

            let streamed = try await fake.send(
                "POST", "/v1/chat/completions", headers: headers,
                body: Data(#"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"weather?"}]}"#.utf8)
            )
            var translator = OpenAIToAnthropicStream(model: "gpt-4o")
            var input = ByteBuffer(bytes: streamed.body)
            var output = ByteBuffer()
            try translator.consume(&input, into: &output)
            try translator.finish(into: &output)
            let events = String(buffer: output)
            #expect(events.components(separatedBy: #""type":"tool_use""#).count - 1 == 2)
            #expect(events.contains(#""stop_reason":"tool_use""#))
            #expect(translator.usage?.outputTokens ?? 0 > 0)

            let followUp = #"{"model":"gpt-4o","messages":[{"role":"user","content":"weather?"},"#
                + #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},"#
                + #"{"role":"tool","tool_call_id":"call_1","content":"14"}]}"#
            let answer = try await fake.send("POST", "/v1/chat/completions", headers: headers, body: Data(followUp.utf8))
            let message = ((answer.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
            #expect(message?["content"] as? String == "Tool said: 14")
        }
    }
}
