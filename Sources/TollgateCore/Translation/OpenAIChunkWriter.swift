import NIOCore

/// Writes `chat.completion.chunk` events. The part every chunk shares (id, created, model) is
/// rendered once; each chunk then costs a few appends.
struct OpenAIChunkWriter: Sendable {
    /// `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…`
    private let head: ByteBuffer
    /// With `include_usage`, OpenAI sends `"usage":null` on every chunk but the last.
    private let includeUsage: Bool

    init(id: String, created: Int, model: String, includeUsage: Bool) {
        var head = ByteBuffer()
        head.writeStaticString(#"data: {"id":"#)
        head.writeJSONQuoted(id)
        head.writeStaticString(#","object":"chat.completion.chunk","created":"#)
        head.writeString(String(created))
        head.writeStaticString(#","model":"#)
        head.writeJSONQuoted(model)
        self.head = head
        self.includeUsage = includeUsage
    }

    /// The first chunk: the assistant role, empty content.
    func writeRole(into output: inout ByteBuffer) {
        self.writeChoice(into: &output, finishReason: nil) { $0.writeStaticString(#"{"role":"assistant","content":"","refusal":null}"#) }
    }

    func writeContent(_ text: String, into output: inout ByteBuffer) {
        self.writeChoice(into: &output, finishReason: nil) { delta in
            delta.writeStaticString(#"{"content":"#)
            delta.writeJSONQuoted(text)
            delta.writeStaticString("}")
        }
    }

    /// Reasoning text, under the `reasoning_content` name DeepSeek and vLLM use.
    func writeReasoning(_ text: String, into output: inout ByteBuffer) {
        self.writeChoice(into: &output, finishReason: nil) { delta in
            delta.writeStaticString(#"{"reasoning_content":"#)
            delta.writeJSONQuoted(text)
            delta.writeStaticString("}")
        }
    }

    /// A tool call's first chunk: its id, name and empty arguments.
    func writeToolCallStart(index: Int, id: String, name: String, into output: inout ByteBuffer) {
        self.writeChoice(into: &output, finishReason: nil) { delta in
            delta.writeString(#"{"tool_calls":[{"index":\#(index),"id":"#)
            delta.writeJSONQuoted(id)
            delta.writeStaticString(#","type":"function","function":{"name":"#)
            delta.writeJSONQuoted(name)
            delta.writeStaticString(#","arguments":""}}]}"#)
        }
    }

    func writeToolArguments(index: Int, _ fragment: String, into output: inout ByteBuffer) {
        self.writeChoice(into: &output, finishReason: nil) { delta in
            delta.writeString(#"{"tool_calls":[{"index":\#(index),"function":{"arguments":"#)
            delta.writeJSONQuoted(fragment)
            delta.writeStaticString("}}]}")
        }
    }

    func writeFinish(_ reason: String, into output: inout ByteBuffer) {
        self.writeChoice(into: &output, finishReason: reason) { $0.writeStaticString("{}") }
    }

    /// The usage-only chunk (`choices: []`) OpenAI sends last when asked for usage.
    func writeUsage(_ usage: TokenUsage, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(self.head)
        output.writeStaticString(#","choices":[],"usage":"#)
        output.writeJSON(usage.openAIJSON)
        output.writeStaticString("}\n\n")
    }

    static func writeDone(into output: inout ByteBuffer) {
        output.writeStaticString("data: [DONE]\n\n")
    }

    private func writeChoice(into output: inout ByteBuffer, finishReason: String?, delta: (inout ByteBuffer) -> Void) {
        output.writeImmutableBuffer(self.head)
        output.writeStaticString(#","choices":[{"index":0,"delta":"#)
        delta(&output)
        output.writeStaticString(#","logprobs":null,"finish_reason":"#)
        if let finishReason { output.writeJSONQuoted(finishReason) } else { output.writeStaticString("null") }
        output.writeStaticString("}]")
        if self.includeUsage { output.writeStaticString(#","usage":null"#) }
        output.writeStaticString("}\n\n")
    }
}
