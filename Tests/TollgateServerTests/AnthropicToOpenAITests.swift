import Foundation
import Testing
import TollgateCore
import TollgateTestSupport

/// Anthropic-format clients (`/v1/messages`) routed to OpenAI-compatible and Azure OpenAI
/// providers, and the Azure OpenAI wire shape.
@Suite struct AnthropicToOpenAITests {
    static let tools = #""tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}}]"#

    @Test func textIsTranslatedBothWaysAndPriced() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.messages(
                #"{"model":"gpt-4o-mini","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"hello there"}]}"#
            )
            #expect(reply.status == 200)
            #expect(reply.json?["type"] as? String == "message")
            #expect(reply.json?["stop_reason"] as? String == "end_turn")
            #expect((reply.json?["content"] as? [[String: Any]])?.first?["text"] as? String == "Echo: hello there")
            let usage = try #require(reply.json?["usage"] as? [String: Any])
            let input = try #require(usage["input_tokens"] as? Int), output = try #require(usage["output_tokens"] as? Int)
            let expected = ModelPrice(inputPerMillion: 0.15, outputPerMillion: 0.6).cost(of: TokenUsage(inputTokens: input, outputTokens: output))
            #expect(reply.header("X-Tollgate-Cost-USD") == expected.description)

            let received = try #require(gateway.provider.received.last)
            #expect(received.path == "/v1/chat/completions")
            #expect(received.headers["authorization"] == "Bearer \(gateway.provider.apiKey)")
            #expect(received.headers["x-api-key"] == nil && received.headers["anthropic-version"] == nil)
            let messages = try #require(received.json?["messages"] as? [[String: Any]])
            #expect(messages.first?["role"] as? String == "system")
            #expect(received.json?["max_completion_tokens"] as? Int == 64)
            #expect(!String(decoding: received.body, as: UTF8.self).contains(gateway.secret))
        }
    }

    @Test func streamArrivesAsAnthropicEventsWithFinalUsage() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.messages(
                #"{"model":"gpt-4o-mini","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"one two three"}]}"#
            )
            #expect(reply.status == 200)
            let events = sseEvents(reply.text)
            #expect(events.first?.name == "message_start" && events.last?.name == "message_stop")
            #expect(AnthropicStreamText.text(events) == "Echo: one two three")
            let delta = try #require(AnthropicStreamText.objects(events).last { $0["type"] as? String == "message_delta" })
            #expect(((delta["usage"] as? [String: Any])?["output_tokens"] as? Int ?? 0) > 0)
            let sent = try #require(gateway.provider.received.last?.json)
            #expect((sent["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        }
    }

    @Test func toolUseRoundTripsPlainAndStreamed() async throws {
        try await GatewayHarness.run { gateway in
            gateway.provider.setBehavior(.toolCalls(OpenAIToAnthropicTests.weather), forModel: "gpt-4o-mini")
            let ask = #"{"model":"gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"weather?"}],"# + Self.tools
            let plain = try await gateway.messages(ask + "}")
            #expect(plain.status == 200)
            #expect(plain.json?["stop_reason"] as? String == "tool_use")
            let blocks = try #require(plain.json?["content"] as? [[String: Any]])
            let uses = blocks.filter { $0["type"] as? String == "tool_use" }
            #expect(uses.count == 2)
            #expect(uses.first?["name"] as? String == "get_weather")
            #expect((uses.last?["input"] as? [String: Any])?["location"] as? String == "Bogotá, Colombia")
            let sentTools = try #require(gateway.provider.received.last?.json?["tools"] as? [[String: Any]])
            #expect((sentTools.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")

            let streamed = try await gateway.messages(ask + #","stream":true}"#)
            let events = sseEvents(streamed.text)
            let inputs = AnthropicStreamText.toolInputs(events)
            #expect(inputs.count == 2)
            #expect(sameJSON(inputs[0], OpenAIToAnthropicTests.weather[0].arguments))
            #expect(streamed.text.components(separatedBy: "input_json_delta").count - 1 >= 8)
            #expect(streamed.text.contains(#""stop_reason":"tool_use""#))

            let useID = try #require(uses.first?["id"] as? String)
            let followUp = #"{"model":"gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"weather?"},"#
                + #"{"role":"assistant","content":[{"type":"tool_use","id":"\#(useID)","name":"get_weather","input":{"location":"Paris"}}]},"#
                + #"{"role":"user","content":[{"type":"tool_result","tool_use_id":"\#(useID)","content":"14 degrees"}]}],"# + Self.tools + "}"
            let answer = try await gateway.messages(followUp)
            #expect((answer.json?["content"] as? [[String: Any]])?.first?["text"] as? String == "Tool said: 14 degrees")
            let lastSent = try #require((gateway.provider.received.last?.json?["messages"] as? [[String: Any]])?.last)
            #expect(lastSent["role"] as? String == "tool" && lastSent["tool_call_id"] as? String == useID)
        }
    }

    @Test func errorsComeInAnthropicsShape() async throws {
        try await GatewayHarness.run { gateway in
            let hello = #"{"model":"gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#
            gateway.provider.setBehavior(.rateLimited(retryAfter: 9), forModel: "gpt-4o-mini")
            let limited = try await gateway.messages(hello)
            #expect(limited.status == 429 && limited.header("Retry-After") == "9")
            #expect(MessagesIngressTests.anthropicError(limited)?.type == "rate_limit_error")

            gateway.provider.setBehavior(.overloaded, forModel: "gpt-4o-mini")
            let overloaded = try await gateway.messages(hello)
            #expect(overloaded.status == 503 && MessagesIngressTests.anthropicError(overloaded)?.type == "overloaded_error")

            gateway.provider.setBehavior(.streamError(afterChunks: 2), forModel: "gpt-4o-mini")
            let streamed = sseEvents(try await gateway.messages(
                #"{"model":"gpt-4o-mini","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#
            ).text)
            #expect(streamed.last?.name == "error")

            let topK = try await gateway.messages(#"{"model":"gpt-4o-mini","max_tokens":64,"top_k":5,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(topK.status == 400)
            #expect(MessagesIngressTests.anthropicError(topK)?.type == "invalid_request_error")
            #expect(MessagesIngressTests.anthropicError(topK)?.message?.contains("'top_k'") == true)
        }
    }

    @Test func azureDeploymentURLHeaderAndAPIVersion() async throws {
        try await GatewayHarness.run { gateway in
            let chat = try await gateway.chat(#"{"model":"azure-gpt","messages":[{"role":"user","content":"hi azure"}]}"#)
            #expect(chat.status == 200)
            #expect(((chat.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String == "Echo: hi azure")
            let received = try #require(gateway.provider.received.last)
            #expect(received.path == "/openai/deployments/gpt4o-deployment/chat/completions")
            #expect(received.query == "api-version=\(ProviderConfig.defaultAzureAPIVersion)")
            #expect(received.headers["api-key"] == gateway.provider.apiKey)
            #expect(received.headers["authorization"] == nil)

            let message = try await gateway.messages(#"{"model":"azure-gpt","max_tokens":32,"stream":true,"messages":[{"role":"user","content":"hi azure"}]}"#)
            #expect(AnthropicStreamText.text(sseEvents(message.text)) == "Echo: hi azure")
            #expect(!message.text.contains("gpt4o-deployment"), "the deployment name is the operator's detail")
            #expect(gateway.provider.received.last?.path == "/openai/deployments/gpt4o-deployment/chat/completions")

            let wrongKey = try await gateway.messages(#"{"model":"azure-wrong-key","max_tokens":32,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(wrongKey.status == 502 && MessagesIngressTests.anthropicError(wrongKey)?.type == "api_error")
            #expect(gateway.provider.received.last?.headers["api-key"] == GatewayHarness.wrongProviderKey)
            #expect(!wrongKey.text.contains(GatewayHarness.wrongProviderKey))
        }
    }

    @Test func modelsListsAnthropicModelsWithoutAskingAnthropic() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.http.send("GET", "/v1/models", headers: gateway.auth)
            let ids = Set((reply.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [])
            #expect(ids.isSuperset(of: ["claude-sonnet-4-5", "claude-haiku-4-5", "azure-gpt", "gpt-4o"]))
            #expect(gateway.provider.received.allSatisfy { $0.path == "/v1/models" && $0.headers["authorization"] != nil })

            // The Anthropic SDK (it sends anthropic-version) gets Anthropic's list shape, and its errors.
            let anthropicHeaders = [("x-api-key", gateway.secret), ("anthropic-version", "2023-06-01")]
            let anthropic = try await gateway.http.send("GET", "/v1/models", headers: anthropicHeaders)
            let data = try #require(anthropic.json?["data"] as? [[String: Any]])
            #expect(data.contains { $0["id"] as? String == "claude-sonnet-4-5" && $0["type"] as? String == "model" })
            #expect(anthropic.json?["has_more"] as? Bool == false && anthropic.json?["object"] == nil)
            let one = try await gateway.http.send("GET", "/v1/models/claude-haiku-4-5", headers: anthropicHeaders)
            #expect(one.json?["display_name"] as? String == "claude-haiku-4-5")
            let missing = try await gateway.http.send("GET", "/v1/models/nope", headers: anthropicHeaders)
            #expect(missing.status == 404 && MessagesIngressTests.anthropicError(missing)?.type == "not_found_error")
        }
    }

    @Test func providerKindsDecodeAndBuildURLs() throws {
        let anthropic = ProviderConfig(kind: .anthropic, baseURL: "https://api.anthropic.com")
        #expect(anthropic.url(for: .messages, model: "claude-sonnet-4-5") == "https://api.anthropic.com/v1/messages")
        #expect(anthropic.url(for: .chatCompletions, model: "x") == nil && anthropic.url(for: .models, model: "") == nil)
        let azure = ProviderConfig(kind: .azureOpenAI, baseURL: "https://res.openai.azure.com", apiVersion: "2025-01-01-preview")
        #expect(azure.url(for: .chatCompletions, model: "my deploy")
            == "https://res.openai.azure.com/openai/deployments/my%20deploy/chat/completions?api-version=2025-01-01-preview")
        #expect(azure.url(for: .models, model: "") == nil)
    }
}
