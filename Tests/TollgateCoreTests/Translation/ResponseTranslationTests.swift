import Foundation
import NIOCore
import Testing
@testable import TollgateCore

@Suite struct ResponseTranslationTests {
    @Test func anthropicResponseFixtureToOpenAI() throws {
        let translated = try ResponseTranslation.chatCompletion(
            fromAnthropic: try Fixture.buffer("anthropic-response-tools.json"), model: "claude-opus-4-1", created: 1_700_000_000
        )
        try Fixture.expectJSON(Data(translated.body.readableBytesView), matches: "anthropic-response-tools.expected.openai.json")
        #expect(translated.usage == TokenUsage(inputTokens: 2620, cachedInputTokens: 2048, cacheWriteInputTokens: 100, outputTokens: 89))
    }

    @Test func openAIResponseFixtureToAnthropic() throws {
        let translated = try ResponseTranslation.anthropicMessage(fromChatCompletion: try Fixture.buffer("openai-response-tools.json"), model: "gpt-4o-mini")
        try Fixture.expectJSON(Data(translated.body.readableBytesView), matches: "openai-response-tools.expected.anthropic.json")
        #expect(translated.usage == TokenUsage(inputTokens: 82, cachedInputTokens: 64, outputTokens: 17))
    }

    @Test func usageFromResponseBodies() throws {
        #expect(TokenUsage.fromAnthropicResponse(try Fixture.buffer("anthropic-response-tools.json"))?.uncachedInputTokens == 472)
        #expect(TokenUsage.fromOpenAIBody(try Fixture.buffer("openai-response-tools.json"))?.inputTokens == 82)
        #expect(TokenUsage.fromOpenAIBody(ByteBuffer(string: "<html>")) == nil)
        // The last `"usage"` member counts, with any spacing; an answer that merely mentions
        // usage does not confuse it; counts that are not integers mean no usage.
        let spaced = #"{"choices":[{"message":{"content":"my \"usage\": {\"prompt_tokens\": 9}"}}], "usage" :  {"prompt_tokens": 12, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 4}}}"#
        #expect(TokenUsage.fromOpenAIBody(ByteBuffer(string: spaced)) == TokenUsage(inputTokens: 12, cachedInputTokens: 4, outputTokens: 3))
        #expect(TokenUsage.fromOpenAIBody(ByteBuffer(string: #"{"usage":{"prompt_tokens":null,"completion_tokens":2}}"#)) == TokenUsage(outputTokens: 2))
        #expect(TokenUsage.fromOpenAIBody(ByteBuffer(string: #"{"usage":{"prompt_tokens":"12"}}"#)) == nil)
        #expect(TokenUsage.fromOpenAIBody(ByteBuffer(string: #"{"usage":{"prompt_tokens":12"#)) == nil)
        #expect(TokenUsage.fromOpenAIBody(ByteBuffer(string: #"{"usage":null}"#)) == nil)
    }

    @Test func forcedJSONToolBecomesTheContent() throws {
        let body = ByteBuffer(string: """
            {"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"tool_use","id":"toolu_1","name":"weather_report","input":{"celsius":21}}],
             "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}}
            """)
        let translated = try ResponseTranslation.chatCompletion(fromAnthropic: body, model: "claude", jsonResponseTool: "weather_report")
        let object = try JSONSerialization.jsonObject(with: Data(translated.body.readableBytesView)) as! [String: Any]
        let choice = (object["choices"] as! [[String: Any]])[0]
        #expect(choice["finish_reason"] as? String == "stop")
        #expect((choice["message"] as! [String: Any])["content"] as? String == #"{"celsius":21}"#)
        #expect((choice["message"] as! [String: Any])["tool_calls"] == nil)
    }

    @Test(arguments: [
        ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter"),
    ])
    func stopReasons(_ anthropic: String, _ openAI: String) throws {
        #expect(StopReason.openAI(fromAnthropic: anthropic) == openAI)
        if anthropic != "stop_sequence" { #expect(StopReason.anthropic(fromOpenAI: openAI) == anthropic) }
    }

    @Test func refusalAndBadArgumentsFromOpenAI() throws {
        let body = ByteBuffer(string: """
            {"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"gpt","choices":[{"index":0,"message":{"role":"assistant","content":null,
             "refusal":"I can't help with that.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{oops"}}]},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}
            """)
        let translated = try ResponseTranslation.anthropicMessage(fromChatCompletion: body, model: "gpt")
        let object = try JSONSerialization.jsonObject(with: Data(translated.body.readableBytesView)) as! [String: Any]
        #expect(object["id"] as? String == "msg_9")
        #expect(object["stop_reason"] as? String == "refusal")
        let content = object["content"] as! [[String: Any]]
        #expect(content[0]["text"] as? String == "I can't help with that.")
        #expect(content[1]["input"] as? NSDictionary == ["_raw_arguments": "{oops"])
    }

    @Test func malformedAnswersAre502() {
        #expect(throws: GatewayError.self) {
            try ResponseTranslation.chatCompletion(fromAnthropic: ByteBuffer(string: "<html>"), model: "m")
        }
        #expect {
            try ResponseTranslation.anthropicMessage(fromChatCompletion: ByteBuffer(string: #"{"choices":[]}"#), model: "m")
        } throws: { ($0 as! GatewayError).status == 502 }
    }
}
