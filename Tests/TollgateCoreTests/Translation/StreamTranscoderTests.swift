import Foundation
import NIOCore
import Testing
@testable import TollgateCore

@Suite struct StreamTranscoderTests {
    static let created = 1_700_000_000

    // MARK: - Fixtures

    @Test(arguments: ["anthropic-stream-text", "anthropic-stream-tools"])
    func anthropicFixtureToOpenAI(_ name: String) throws {
        let input = Array(try Fixture.data("\(name).sse"))
        let result = try transcode(AnthropicToOpenAIStream(model: "claude-opus-4-1", includeUsage: true, created: Self.created), input)
        try Fixture.expectText(result.output, matches: "\(name).expected.openai.sse")
        let summary = try OpenAIStreamSummary(result.output)
        #expect(summary.sawDone)
        if name == "anthropic-stream-tools" {
            #expect(summary.content == "Okay, let's check the weather for San Francisco, CA:")
            #expect(summary.toolCalls[0]?.id == "toolu_01T1x1fJ34qAmk2tNTrN7Up6")
            #expect(jsonEqual(summary.toolCalls[0]!.arguments, #"{"location": "San Francisco, CA", "unit": "fahrenheit"}"#))
            #expect(summary.finishReason == "tool_calls")
            #expect(summary.usage == ["prompt_tokens": 600, "completion_tokens": 89, "total_tokens": 689, "cached_tokens": 128])
            #expect(result.usage == TokenUsage(inputTokens: 600, cachedInputTokens: 128, outputTokens: 89))
        }
    }

    @Test(arguments: ["openai-stream-text", "openai-stream-tools"])
    func openAIFixtureToAnthropic(_ name: String) throws {
        let input = Array(try Fixture.data("\(name).sse"))
        let result = try transcode(OpenAIToAnthropicStream(model: "gpt-4o"), input)
        try Fixture.expectText(result.output, matches: "\(name).expected.anthropic.sse")
        let summary = try AnthropicStreamSummary(result.output)
        #expect(summary.stopped)
        if name == "openai-stream-tools" {
            #expect(summary.blocks.map(\.type) == ["tool_use", "tool_use"], "parallel calls become two blocks")
            #expect(summary.blocks.map(\.id) == ["call_DdmO9pD3xa9XTPNJ32zg2hcA", "call_67890abc"])
            #expect(jsonEqual(summary.blocks[1].json, #"{"location":"Bogotá, Colombia"}"#))
            #expect(summary.stopReason == "tool_use")
            #expect(summary.usage["input_tokens"] == 54 && summary.usage["cache_read_input_tokens"] == 32 && summary.usage["output_tokens"] == 48)
        }
    }

    @Test func streamsSurviveARoundTrip() throws {
        let anthropic = try Fixture.text("anthropic-stream-tools.sse")
        let viaOpenAI = try transcode(AnthropicToOpenAIStream(model: "m", includeUsage: true), Array(anthropic.utf8)).output
        let back = try transcode(OpenAIToAnthropicStream(model: "m"), Array(viaOpenAI.utf8)).output
        let original = try AnthropicStreamSummary(anthropic)
        let roundTripped = try AnthropicStreamSummary(back)
        #expect(roundTripped.blocks == original.blocks)
        #expect(roundTripped.stopReason == original.stopReason)
        #expect(roundTripped.usage["output_tokens"] == 89 && roundTripped.usage["input_tokens"] == 472)

        let openAI = try Fixture.text("openai-stream-tools.sse")
        let viaAnthropic = try transcode(OpenAIToAnthropicStream(model: "m"), Array(openAI.utf8)).output
        let again = try transcode(AnthropicToOpenAIStream(model: "m", includeUsage: true), Array(viaAnthropic.utf8)).output
        #expect(try OpenAIStreamSummary(again) == OpenAIStreamSummary(openAI))
    }

    // MARK: - Splitting

    static let splitCases: [(String, @Sendable () -> any ResponseStreamTranscoder)] = [
        ("openai-stream-text.sse", { OpenAIStreamPassthrough(clientWantsUsage: false) }),
        ("openai-stream-tools.sse", { OpenAIStreamPassthrough(clientWantsUsage: false) }),
        ("anthropic-stream-text.sse", { AnthropicStreamPassthrough() }),
        ("anthropic-stream-tools.sse", { AnthropicStreamPassthrough() }),
        ("anthropic-stream-text.sse", { AnthropicToOpenAIStream(model: "m", includeUsage: true, created: StreamTranscoderTests.created) }),
        ("anthropic-stream-tools.sse", { AnthropicToOpenAIStream(model: "m", includeUsage: true, created: StreamTranscoderTests.created) }),
        ("openai-stream-text.sse", { OpenAIToAnthropicStream(model: "m") }),
        ("openai-stream-tools.sse", { OpenAIToAnthropicStream(model: "m") }),
    ]

    /// Byte by byte puts a chunk boundary at every offset in one run; two-chunk splits (at
    /// some 300 offsets spread over the transcript) also cover the parser adopting a chunk that
    /// starts mid-event. Each split transcodes the whole transcript again, so the test yields
    /// between them: run synchronously it held a cooperative-pool thread for seconds, and on a
    /// 2-core machine every other test in the process (Redis replies, gateways) waited.
    @Test(arguments: 0..<8)
    func splitAnywhereGivesTheSameOutput(_ index: Int) async throws {
        let (name, make) = Self.splitCases[index]
        let input = Array(try Fixture.data(name))
        let whole = try transcode(make(), input)
        let byByte = try transcode(make(), input, splits: Array(1..<input.count))
        #expect(byByte.output == whole.output)
        #expect(byByte.usage == whole.usage)
        // An odd step lands the splits on every kind of position (in "data:", in JSON, on a
        // line break, between events) many times over.
        let step = max(1, input.count / 300) | 1
        for split in stride(from: 1, to: input.count, by: step) {
            let parts = try transcode(make(), input, splits: [split])
            #expect(parts.output == whole.output, "split at \(split)")
            #expect(parts.usage == whole.usage)
            await Task.yield()
        }

        // CRLF line endings read the same.
        let crlf = Array(String(decoding: input, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let fromCRLF = try transcode(make(), crlf, splits: stride(from: 7, to: crlf.count, by: 13).map { $0 })
        #expect(fromCRLF.usage == whole.usage)
        if index >= 4 { #expect(fromCRLF.output == whole.output) }
    }

    // MARK: - Pass-throughs

    @Test func openAIPassthroughRemovesOnlyTheUsageChunk() throws {
        let input = try Fixture.text("openai-stream-text.sse")
        let wanted = try transcode(OpenAIStreamPassthrough(clientWantsUsage: true), Array(input.utf8))
        #expect(wanted.output == input)
        #expect(wanted.usage == TokenUsage(inputTokens: 19, outputTokens: 10))

        let unwanted = try transcode(OpenAIStreamPassthrough(clientWantsUsage: false), Array(input.utf8))
        let removed = try events(input).filter { $0.dataString.contains(#""choices":[]"#) }.map { String(buffer: $0.raw) }
        #expect(removed.count == 1)
        #expect(unwanted.output == input.replacingOccurrences(of: removed[0], with: ""))
        #expect(unwanted.usage == wanted.usage)
    }

    @Test func openAIPassthroughKeepsEmptyChoiceChunksWithoutUsage() throws {
        // Azure OpenAI opens with a prompt-filter chunk that has no choices.
        let input = #"data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"#
            + "\n\n" + (try Fixture.text("openai-stream-text.sse"))
        let result = try transcode(OpenAIStreamPassthrough(clientWantsUsage: false), Array(input.utf8))
        #expect(result.output.hasPrefix(#"data: {"choices":[],"created":0"#))
        #expect(result.usage?.outputTokens == 10)
    }

    @Test func anthropicPassthroughIsExactAndReadsUsage() throws {
        let input = try Fixture.text("anthropic-stream-text.sse")
        let result = try transcode(AnthropicStreamPassthrough(), Array(input.utf8))
        #expect(result.output == input)
        #expect(result.usage == TokenUsage(inputTokens: 25, outputTokens: 15))
    }

    // MARK: - Incremental output

    @Test func everyAnthropicEventIsTranslatedAsItArrives() throws {
        var transcoder = AnthropicToOpenAIStream(model: "m", includeUsage: false)
        let all = try events(try Fixture.text("anthropic-stream-tools.sse"))
        for event in all {
            var input = event.raw
            var output = ByteBuffer()
            try transcoder.consume(&input, into: &output)
            let text = String(buffer: output)
            switch event.name {
            case "message_start": #expect(text.contains(#""role":"assistant""#))
            case "content_block_delta" where !event.dataString.contains(#""partial_json":"""#):
                #expect(text.hasPrefix("data: {"), "a delta becomes a chunk at once")
            case "content_block_start" where event.dataString.contains("tool_use"): #expect(text.contains(#""name":"get_weather""#))
            case "message_delta": #expect(text.contains(#""finish_reason":"tool_calls""#))
            case "message_stop": #expect(text.hasSuffix("data: [DONE]\n\n"))
            default: break
            }
        }
    }

    @Test func everyOpenAIChunkIsTranslatedAsItArrives() throws {
        var transcoder = OpenAIToAnthropicStream(model: "m")
        let all = try events(try Fixture.text("openai-stream-text.sse"))
        var outputs: [String] = []
        for event in all {
            var input = event.raw
            var output = ByteBuffer()
            try transcoder.consume(&input, into: &output)
            outputs.append(String(buffer: output))
        }
        #expect(outputs[0].hasPrefix("event: message_start"))
        #expect(outputs[1].contains(#""text":"Hello""#))
        #expect(outputs[4].contains("content_block_stop") && !outputs[4].contains("message_delta"), "the finish chunk closes the block")
        #expect(outputs[5].contains("message_delta") && outputs[5].contains(#""output_tokens":10"#), "usage arrives after the finish")
    }

    // MARK: - Errors

    @Test func anthropicErrorEventBecomesAnOpenAIErrorChunk() throws {
        let input = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
            + "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n"
        let result = try transcode(AnthropicToOpenAIStream(model: "m", includeUsage: false), Array(input.utf8))
        let summary = try OpenAIStreamSummary(result.output)
        #expect(summary.error?.contains("overloaded") == true)
        #expect(!summary.sawDone)
        #expect(result.usage?.inputTokens == 5)
    }

    @Test func openAIErrorChunkBecomesAnAnthropicErrorEvent() throws {
        let input = #"data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"# + "\n\n"
            + #"data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"# + "\n\n"
        let result = try transcode(OpenAIToAnthropicStream(model: "m"), Array(input.utf8))
        #expect(result.output.hasSuffix(#"event: error"# + "\n" + #"data: {"type":"error","error":{"type":"api_error","message":"The server had an error"}}"# + "\n\n"))
    }

    @Test func truncatedStreamsThrowAndFailRendersInTheClientFormat() throws {
        let partial = Array(try Fixture.text("anthropic-stream-tools.sse").prefix(900).utf8)
        #expect(throws: GatewayError.self) { try transcode(AnthropicToOpenAIStream(model: "m", includeUsage: false), partial) }

        var transcoder = OpenAIToAnthropicStream(model: "m")
        var input = ByteBuffer(string: #"data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hi"}}]}"# + "\n\n")
        var output = ByteBuffer()
        try transcoder.consume(&input, into: &output)
        #expect(throws: GatewayError.self) { try transcoder.finish(into: &output) }
        transcoder.fail(.upstreamTimeout(provider: "openai"), into: &output)
        #expect(String(buffer: output).hasSuffix(#"{"type":"error","error":{"type":"timeout_error","message":"The provider 'openai' did not answer in time."}}"# + "\n\n"))
        let before = output.readableBytes
        transcoder.fail(.internalError, into: &output)
        #expect(output.readableBytes == before, "one error, then nothing")
    }

    @Test func openAIStreamWithoutDoneStillCloses() throws {
        let input = try Fixture.text("openai-stream-text.sse").replacingOccurrences(of: "data: [DONE]\n\n", with: "")
        let result = try transcode(OpenAIToAnthropicStream(model: "m"), Array(input.utf8))
        #expect(try AnthropicStreamSummary(result.output).stopped)
    }

    @Test func forcedJSONToolStreamsAsContent() throws {
        let input = try Fixture.text("anthropic-stream-tools.sse")
        let result = try transcode(AnthropicToOpenAIStream(model: "m", includeUsage: false, jsonResponseTool: "get_weather"), Array(input.utf8))
        let summary = try OpenAIStreamSummary(result.output)
        #expect(summary.toolCalls.isEmpty)
        #expect(summary.finishReason == "stop")
        #expect(summary.content.hasSuffix(#"{"location": "San Francisco, CA", "unit": "fahrenheit"}"#))
    }
}
