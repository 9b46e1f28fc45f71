import Foundation
import Testing
import TollgateCore
import TollgateTestSupport

/// OpenAI-format clients (`/v1/chat/completions`) routed to an Anthropic provider.
@Suite struct OpenAIToAnthropicTests {
    static let weather = [
        FakeToolCall(name: "get_weather", arguments: #"{"location":"Paris, France","unit":"celsius"}"#),
        FakeToolCall(name: "get_weather", arguments: #"{"location":"Bogotá, Colombia","unit":"celsius"}"#),
    ]
    static let tools = #""tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]"#

    @Test func textIsTranslatedBothWaysAndPriced() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(
                #"{"model":"claude-sonnet-4-5","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hello there"}]}"#,
                headers: [("anthropic-beta", "token-efficient-tools-2025-02-19")]
            )
            #expect(reply.status == 200)
            #expect(reply.json?["object"] as? String == "chat.completion")
            let choice = try #require((reply.json?["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Echo: hello there")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect(reply.header("X-Tollgate-Model") == "claude-sonnet-4-5")
            #expect(reply.header("X-Tollgate-Upstream-Request-Id")?.hasPrefix("req_fake") == true)

            let usage = try #require(reply.json?["usage"] as? [String: Any])
            let prompt = try #require(usage["prompt_tokens"] as? Int), completion = try #require(usage["completion_tokens"] as? Int)
            #expect(prompt > 0 && completion > 0)
            let expected = ModelPrice(inputPerMillion: 3, outputPerMillion: 15).cost(of: TokenUsage(inputTokens: prompt, outputTokens: completion))
            #expect(reply.header("X-Tollgate-Cost-USD") == expected.description)

            let received = try #require(gateway.provider.received.last)
            #expect(received.path == "/v1/messages")
            #expect(received.headers["x-api-key"] == gateway.provider.apiKey)
            #expect(received.headers["anthropic-version"] == "2023-06-01")
            #expect(received.headers["authorization"] == nil)
            #expect(received.headers["anthropic-beta"] == "token-efficient-tools-2025-02-19")
            let sent = try #require(received.json)
            #expect(sent["system"] as? String == "Be brief.")
            #expect(sent["max_tokens"] as? Int == 4096, "the configured default: Anthropic requires max_tokens")
            let headerText = received.headers.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
            #expect(!headerText.contains(gateway.secret) && !String(decoding: received.body, as: UTF8.self).contains(gateway.secret))
            #expect(!reply.text.contains(gateway.provider.apiKey))
        }
    }

    @Test func defaultMaxTokensIsConfigurable() async throws {
        try await GatewayHarness.run(configure: { $0.translation.defaultMaxTokens = 333 }) { gateway in
            let reply = try await gateway.chat(#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(reply.status == 200)
            #expect(gateway.provider.received.last?.json?["max_tokens"] as? Int == 333)
        }
    }

    @Test func streamArrivesAsChatCompletionChunksWithUsage() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(
                #"{"model":"claude-sonnet-4-5","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}"#
            )
            #expect(reply.status == 200)
            #expect(reply.header("content-type")?.hasPrefix("text/event-stream") == true)
            let payloads = ssePayloads(reply.text)
            #expect(payloads.last == "[DONE]")
            let chunks = payloads.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect(OpenAIStreamText.content(chunks) == "Echo: one two three")
            let usage = try #require(chunks.last?["usage"] as? [String: Any])
            #expect((usage["completion_tokens"] as? Int ?? 0) > 0)
        }
    }

    @Test func toolCallsRoundTripPlainAndStreamed() async throws {
        try await GatewayHarness.run { gateway in
            gateway.provider.setBehavior(.toolCalls(Self.weather, text: "Let me check."), forModel: "claude-sonnet-4-5")
            let ask = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"weather?"}],"# + Self.tools
            let plain = try await gateway.chat(ask + "}")
            #expect(plain.status == 200)
            let choice = try #require((plain.json?["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let calls = try #require((choice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])
            #expect(calls.count == 2)
            let first = try #require(calls.first?["function"] as? [String: Any])
            #expect(first["name"] as? String == "get_weather")
            #expect(sameJSON(first["arguments"] as? String, Self.weather[0].arguments))
            let sentTools = try #require(gateway.provider.received.last?.json?["tools"] as? [[String: Any]])
            #expect(sentTools.first?["name"] as? String == "get_weather" && sentTools.first?["input_schema"] != nil)

            let streamed = try await gateway.chat(ask + #","stream":true}"#)
            let chunks = ssePayloads(streamed.text).dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let arguments = OpenAIStreamText.toolArguments(chunks)
            #expect(arguments.count == 2)
            #expect(sameJSON(arguments[1], Self.weather[1].arguments))
            #expect(OpenAIStreamText.argumentDeltaCount(chunks) >= 8, "arguments arrive as several deltas")
            #expect(streamed.text.contains(#""finish_reason":"tool_calls""#))

            // The next turn carries the tool result back.
            let callID = try #require(calls.first?["id"] as? String)
            let followUp = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"weather?"},"#
                + #"{"role":"assistant","content":null,"tool_calls":[{"id":"\#(callID)","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},"#
                + #"{"role":"tool","tool_call_id":"\#(callID)","content":"14 degrees"}],"# + Self.tools + "}"
            let answer = try await gateway.chat(followUp)
            let message = (answer.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "Tool said: 14 degrees")
            let lastTurn = try #require((gateway.provider.received.last?.json?["messages"] as? [[String: Any]])?.last)
            #expect(((lastTurn["content"] as? [[String: Any]])?.first)?["type"] as? String == "tool_result")
        }
    }

    @Test func providerErrorsComeInOpenAIShape() async throws {
        try await GatewayHarness.run { gateway in
            let hello = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}"#
            gateway.provider.setBehavior(.overloaded, forModel: "claude-sonnet-4-5")
            let overloaded = try await gateway.chat(hello)
            #expect(overloaded.status == 503)
            #expect(overloaded.errorField.code == "provider_overloaded")

            gateway.provider.setBehavior(.rateLimited(retryAfter: 9), forModel: "claude-sonnet-4-5")
            let limited = try await gateway.chat(hello)
            #expect(limited.status == 429 && limited.header("Retry-After") == "9")
            #expect(limited.errorField.code == "rate_limit_exceeded")

            let wrongKey = try await gateway.chat(#"{"model":"claude-wrong-key","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(wrongKey.status == 502)
            #expect(wrongKey.errorField.code == "upstream_auth_failed")
            #expect(!wrongKey.text.contains(GatewayHarness.wrongProviderKey))

            gateway.provider.setBehavior(.streamError(afterChunks: 2), forModel: "claude-sonnet-4-5")
            let streamed = try await gateway.chat(#"{"model":"claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
            let last = try #require(ssePayloads(streamed.text).last)
            #expect(last.contains(#""error""#) && !streamed.text.contains("[DONE]"))
        }
    }

    @Test func unsupportedParameterIs400NamingItUnlessDropped() async throws {
        let body = #"{"model":"claude-sonnet-4-5","seed":7,"messages":[{"role":"user","content":"hi"}]}"#
        try await GatewayHarness.run { gateway in
            let refused = try await gateway.chat(body)
            #expect(refused.status == 400)
            #expect(refused.errorField.code == "unsupported_parameter")
            #expect((refused.json?["error"] as? [String: Any])?["param"] as? String == "seed")
            #expect(refused.errorField.message?.contains("'seed'") == true)
            #expect(gateway.provider.received.isEmpty)
        }
        try await GatewayHarness.run(configure: { $0.translation.dropUnsupported = true }) { gateway in
            let accepted = try await gateway.chat(body)
            #expect(accepted.status == 200)
            #expect(gateway.provider.received.last?.json?["seed"] == nil)
        }
    }
}

/// Reads OpenAI stream chunks back.
enum OpenAIStreamText {
    static func deltas(_ chunks: [[String: Any]]) -> [[String: Any]] {
        chunks.compactMap { ((($0["choices"] as? [[String: Any]])?.first)?["delta"]) as? [String: Any] }
    }

    static func content(_ chunks: [[String: Any]]) -> String {
        self.deltas(chunks).compactMap { $0["content"] as? String }.joined()
    }

    /// Each tool call's arguments, concatenated from its deltas, by index.
    static func toolArguments(_ chunks: [[String: Any]]) -> [String] {
        var byIndex: [Int: String] = [:]
        for call in self.deltas(chunks).flatMap({ $0["tool_calls"] as? [[String: Any]] ?? [] }) {
            let index = call["index"] as? Int ?? 0
            byIndex[index, default: ""] += ((call["function"] as? [String: Any])?["arguments"] as? String) ?? ""
        }
        return byIndex.keys.sorted().map { byIndex[$0]! }
    }

    static func argumentDeltaCount(_ chunks: [[String: Any]]) -> Int {
        self.deltas(chunks).flatMap { $0["tool_calls"] as? [[String: Any]] ?? [] }
            .filter { !((($0["function"] as? [String: Any])?["arguments"] as? String) ?? "").isEmpty }.count
    }
}

/// Whether two JSON texts hold the same value, whatever their key order (providers and the
/// fake serialise objects in any order).
func sameJSON(_ lhs: String?, _ rhs: String?) -> Bool {
    guard let lhs, let rhs,
        let left = try? JSONSerialization.jsonObject(with: Data(lhs.utf8), options: [.fragmentsAllowed]),
        let right = try? JSONSerialization.jsonObject(with: Data(rhs.utf8), options: [.fragmentsAllowed])
    else { return false }
    return sameJSONValue(left, right)
}

private func sameJSONValue(_ lhs: Any, _ rhs: Any) -> Bool {
    switch (lhs, rhs) {
    case (let left as [String: Any], let right as [String: Any]):
        left.count == right.count && left.allSatisfy { key, value in right[key].map { sameJSONValue(value, $0) } ?? false }
    case (let left as [Any], let right as [Any]):
        left.count == right.count && zip(left, right).allSatisfy { sameJSONValue($0, $1) }
    case (let left as String, let right as String): left == right
    case (let left as NSNumber, let right as NSNumber): left == right
    case (is NSNull, is NSNull): true
    default: false
    }
}
