import Foundation
import Testing
@testable import TollgateCore

@Suite struct RequestTranslationTests {
    func openAI(_ json: String) throws -> ChatCompletionRequest {
        try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
    }

    func anthropic(_ json: String) throws -> AnthropicMessagesRequest {
        try JSONDecoder().decode(AnthropicMessagesRequest.self, from: Data(json.utf8))
    }

    func json(_ value: some Encodable) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try encodeJSON(value)) as! [String: Any]
    }

    // MARK: - Fixtures

    @Test(arguments: ["openai-request-tools", "openai-request-vision", "openai-request-conversation"])
    func openAIFixtureToAnthropic(_ name: String) throws {
        let request = try JSONDecoder().decode(ChatCompletionRequest.self, from: try Fixture.data("\(name).json"))
        let translated = try request.anthropicRequest(options: .init(defaultMaxTokens: 1024))
        try Fixture.expectJSON(try encodeJSON(translated.request), matches: "\(name).expected.anthropic.json")
    }

    @Test(arguments: ["anthropic-request-tools", "anthropic-request-tool-result"])
    func anthropicFixtureToOpenAI(_ name: String) throws {
        let request = try JSONDecoder().decode(AnthropicMessagesRequest.self, from: try Fixture.data("\(name).json"))
        let translated = try request.chatCompletionRequest()
        try Fixture.expectJSON(try encodeJSON(translated.request), matches: "\(name).expected.openai.json")
    }

    @Test func conversationFixtureReportsWhatChanged() throws {
        let request = try JSONDecoder().decode(ChatCompletionRequest.self, from: try Fixture.data("openai-request-conversation.json"))
        let translated = try request.anthropicRequest()
        #expect(translated.dropped == ["tools[0].function.strict"])
        #expect(translated.adjusted.contains { $0.hasPrefix("temperature (1.4 clamped to 1") })
        let body = try json(translated.request)
        #expect(body["system"] as? String == "You are a helpful assistant.")
        let messages = body["messages"] as! [[String: Any]]
        #expect(messages.map { $0["role"] as! String } == ["user", "assistant", "user"], "same-role turns merge")
        let results = messages[2]["content"] as! [[String: Any]]
        #expect(results.map { $0["tool_use_id"] as! String } == ["call_12345xyz", "call_67890abc"])
        #expect(body["tool_choice"] as? NSDictionary == ["type": "tool", "name": "get_weather", "disable_parallel_tool_use": true])
        #expect(body["stop_sequences"] as? [String] == ["\n\n"])
        #expect(body["metadata"] as? NSDictionary == ["user_id": "user-1234"])
        #expect(body["stream_options"] == nil && body["parallel_tool_calls"] == nil)
    }

    @Test func toolResultFixtureKeepsTheConversationOrder() throws {
        let request = try JSONDecoder().decode(AnthropicMessagesRequest.self, from: try Fixture.data("anthropic-request-tool-result.json"))
        let translated = try request.chatCompletionRequest()
        #expect(translated.request.messages.map(\.role) == [.user, .assistant, .tool, .tool, .user])
        #expect(translated.request.messages[3].content == .text("Error: Service unavailable"))
        #expect(translated.dropped == ["messages[1].content[0]"], "the thinking block is dropped and listed")
    }

    // MARK: - OpenAI → Anthropic rules

    @Test func maxTokensDefaultsWhenAbsent() throws {
        let request = try openAI(#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}"#)
        let translated = try request.anthropicRequest(options: .init(defaultMaxTokens: 2048))
        #expect(translated.request.maxTokens == 2048)
        let capped = try openAI(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":10,"max_completion_tokens":20}"#)
        #expect(try capped.anthropicRequest().request.maxTokens == 20, "max_completion_tokens wins, as OpenAI reads it")
    }

    @Test(arguments: [
        (#""n":2"#, "n"), (#""logprobs":true"#, "logprobs"), (#""presence_penalty":0.5"#, "presence_penalty"),
        (#""frequency_penalty":-1"#, "frequency_penalty"), (#""seed":42"#, "seed"), (#""logit_bias":{"50256":-100}"#, "logit_bias"),
        (#""audio":{"voice":"alloy","format":"wav"}"#, "audio"), (#""modalities":["text","audio"]"#, "modalities"),
        (#""reasoning_effort":"low""#, "reasoning_effort"), (#""functions":[{"name":"f"}]"#, "functions"),
    ])
    func unsupportedOpenAIParametersAreRefusedOrDropped(_ fragment: String, _ param: String) throws {
        let request = try openAI(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"# + fragment + "}")
        #expect {
            _ = try request.anthropicRequest()
        } throws: { error in
            let error = error as! GatewayError
            return error.status == 400 && error.param == param && error.code == "unsupported_parameter" && error.message.contains("'\(param)'")
        }
        let dropped = try request.anthropicRequest(options: .init(dropUnsupported: true))
        #expect(dropped.dropped == [param])
        #expect(try json(dropped.request)[param] == nil)
    }

    @Test func noOpValuesOfUnsupportedParametersAreAccepted() throws {
        let request = try openAI(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"n":1,"logprobs":false,"presence_penalty":0,"frequency_penalty":0,"logit_bias":{},"modalities":["text"],"seed":null}"#
        )
        let translated = try request.anthropicRequest()
        #expect(translated.dropped.isEmpty)
        #expect(Set(try json(translated.request).keys) == ["model", "messages", "max_tokens"])
    }

    @Test func unknownFieldsPassThroughForTheProviderToJudge() throws {
        let request = try openAI(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"top_k":5,"thinking":{"type":"enabled","budget_tokens":2000}}"#)
        let body = try json(try request.anthropicRequest().request)
        #expect(body["top_k"] as? Int == 5)
        #expect((body["thinking"] as? [String: Any])?["budget_tokens"] as? Int == 2000)
    }

    @Test func messageNamesAndAudioPartsAreUnsupported() throws {
        let named = try openAI(#"{"model":"m","messages":[{"role":"user","name":"alice","content":"hi"}]}"#)
        #expect(throws: GatewayError.unsupportedParameter("messages[0].name", provider: "Anthropic", detail: "Anthropic messages have no participant names")) {
            try named.anthropicRequest()
        }
        let audio = try openAI(#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hear"},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}"#)
        let dropped = try audio.anthropicRequest(options: .init(dropUnsupported: true))
        #expect(dropped.dropped == ["messages[0].content[1]"])
    }

    @Test func jsonSchemaBecomesAForcedToolAndJsonObjectAnInstruction() throws {
        let schema = try openAI(
            #"{"model":"m","messages":[{"role":"user","content":"weather?"}],"response_format":{"type":"json_schema","json_schema":{"name":"weather_report","schema":{"type":"object","properties":{"celsius":{"type":"number"}},"required":["celsius"]},"strict":true}}}"#
        )
        let forced = try schema.anthropicRequest()
        #expect(forced.jsonResponseTool == "weather_report")
        let body = try json(forced.request)
        #expect((body["tools"] as! [[String: Any]])[0]["name"] as? String == "weather_report")
        #expect(body["tool_choice"] as? NSDictionary == ["type": "tool", "name": "weather_report"])

        let object = try openAI(
            #"{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}"#
        )
        let instructed = try object.anthropicRequest()
        #expect(instructed.jsonResponseTool == nil)
        let system = try json(instructed.request)["system"] as! [[String: Any]]
        #expect(system.count == 2)
        #expect((system[1]["text"] as! String).contains("JSON object"))
    }

    @Test func unsupportedToolKindsAreRefusedOrLeftOut() throws {
        let request = try openAI(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","custom":{"name":"grammar"}}],"tool_choice":"auto","parallel_tool_calls":false}"#
        )
        #expect(throws: GatewayError.self) { try request.anthropicRequest() }
        let dropped = try request.anthropicRequest(options: .init(dropUnsupported: true))
        #expect(dropped.dropped == ["tools[0]"])
        let body = try json(dropped.request)
        #expect(body["tools"] == nil && body["tool_choice"] == nil)
    }

    @Test func streamUsageIsRequestedAndTheClientsWishRemembered() throws {
        var request = try openAI(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#)
        #expect(request.requestStreamUsage() == false)
        #expect(request.includesStreamUsage)
        #expect(request.requestStreamUsage() == true)
    }

    @Test func invalidToolArgumentsAreA400NamingThem() throws {
        let request = try openAI(
            #"{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"[1,2]"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}"#
        )
        #expect {
            _ = try request.anthropicRequest()
        } throws: { error in
            (error as! GatewayError).param == "messages[1].tool_calls[0].function.arguments"
        }
    }

    @Test func imageDetailIsAHintAndBadImageURLsAre400() throws {
        let detail = try openAI(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"high"}}]}]}"#
        )
        #expect(try detail.anthropicRequest().dropped == ["messages[0].content[0].image_url.detail"])
        let bad = try openAI(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}"#)
        #expect {
            _ = try bad.anthropicRequest()
        } throws: { error in
            (error as! GatewayError).param == "messages[0].content[0].image_url.url"
        }
    }

    // MARK: - Anthropic → OpenAI rules

    @Test func streamingAsksForUsageAndCacheControlIsAListedHint() throws {
        let translated = try anthropic(String(decoding: try Fixture.data("anthropic-request-tools.json"), as: UTF8.self)).chatCompletionRequest()
        #expect(translated.request.streamOptions == ["include_usage": .bool(true)])
        #expect(translated.dropped == ["system[0].cache_control"])
        #expect(translated.request.additionalFields["parallel_tool_calls"] == .bool(false))
        #expect(translated.request.toolChoice == "required")
    }

    @Test(arguments: [
        (#""top_k":5"#, "top_k"), (#""thinking":{"type":"enabled","budget_tokens":1024}"#, "thinking"),
        (#""metadata":{"user_id":"u","tenant":"t"}"#, "metadata.tenant"),
        (#""tools":[{"type":"web_search_20250305","name":"web_search"}]"#, "tools[0]"),
        (#""container":"container_01""#, "container"),
    ])
    func unsupportedAnthropicParametersAreRefusedOrDropped(_ fragment: String, _ param: String) throws {
        let request = try anthropic(#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"# + fragment + "}")
        #expect {
            _ = try request.chatCompletionRequest()
        } throws: { error in
            let error = error as! GatewayError
            return error.status == 400 && error.param == param
        }
        #expect(try request.chatCompletionRequest(options: .init(dropUnsupported: true)).dropped == [param])
    }

    @Test func maxTokensFieldFollowsTheOption() throws {
        let request = try anthropic(#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(try request.chatCompletionRequest().request.maxCompletionTokens == 10)
        let legacy = try request.chatCompletionRequest(options: .init(openAIMaxTokensField: .maxTokens)).request
        #expect(legacy.maxTokens == 10 && legacy.maxCompletionTokens == nil)
    }

    @Test func requestsSurviveARoundTrip() throws {
        let original = try JSONDecoder().decode(ChatCompletionRequest.self, from: try Fixture.data("openai-request-tools.json"))
        let back = try original.anthropicRequest(options: .init(defaultMaxTokens: 1024)).request.chatCompletionRequest().request
        // JSONObject equality is key-order sensitive: compare as JSON values.
        let backBody = try json(back)
        let originalBody = try json(original)
        for key in ["messages", "tools", "tool_choice"] {
            #expect((backBody[key] as? NSObject) == (originalBody[key] as? NSObject), "\(key)")
        }
    }
}
