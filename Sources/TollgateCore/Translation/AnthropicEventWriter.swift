import NIOCore

/// Writes Anthropic Messages stream events, shaped as Anthropic's API sends them.
enum AnthropicEventWriter {
    static func writeMessageStart(id: String, model: String, usage: TokenUsage, into output: inout ByteBuffer) {
        output.writeStaticString("event: message_start\ndata: ")
        output.writeStaticString(#"{"type":"message_start","message":{"id":"#)
        output.writeJSONQuoted(id)
        output.writeStaticString(#","type":"message","role":"assistant","model":"#)
        output.writeJSONQuoted(model)
        output.writeStaticString(#","content":[],"stop_reason":null,"stop_sequence":null,"usage":"#)
        output.writeJSON(usage.anthropicJSON)
        output.writeStaticString("}}\n\n")
    }

    static func writeTextBlockStart(index: Int, into output: inout ByteBuffer) {
        output.writeString(
            "event: content_block_start\ndata: " + #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"text","text":""}}"# + "\n\n"
        )
    }

    static func writeToolUseBlockStart(index: Int, id: String, name: String, into output: inout ByteBuffer) {
        output.writeString("event: content_block_start\ndata: " + #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"tool_use","id":"#)
        output.writeJSONQuoted(id)
        output.writeStaticString(#","name":"#)
        output.writeJSONQuoted(name)
        output.writeStaticString(#","input":{}}}"#)
        output.writeStaticString("\n\n")
    }

    static func writeTextDelta(index: Int, _ text: String, into output: inout ByteBuffer) {
        output.writeString("event: content_block_delta\ndata: " + #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":"#)
        output.writeJSONQuoted(text)
        output.writeStaticString("}}\n\n")
    }

    static func writeInputJSONDelta(index: Int, _ fragment: String, into output: inout ByteBuffer) {
        output.writeString(
            "event: content_block_delta\ndata: " + #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"input_json_delta","partial_json":"#
        )
        output.writeJSONQuoted(fragment)
        output.writeStaticString("}}\n\n")
    }

    static func writeBlockStop(index: Int, into output: inout ByteBuffer) {
        output.writeString("event: content_block_stop\ndata: " + #"{"type":"content_block_stop","index":\#(index)}"# + "\n\n")
    }

    /// `message_delta` with the stop reason and the whole usage: Anthropic's counts there are
    /// cumulative, and current SDKs take input and cache counts from it too.
    static func writeMessageDelta(stopReason: String, stopSequence: String? = nil, usage: TokenUsage, into output: inout ByteBuffer) {
        output.writeStaticString("event: message_delta\ndata: ")
        output.writeStaticString(#"{"type":"message_delta","delta":{"stop_reason":"#)
        output.writeJSONQuoted(stopReason)
        output.writeStaticString(#","stop_sequence":"#)
        if let stopSequence { output.writeJSONQuoted(stopSequence) } else { output.writeStaticString("null") }
        output.writeStaticString(#"},"usage":"#)
        output.writeJSON(usage.anthropicJSON)
        output.writeStaticString("}\n\n")
    }

    static func writeMessageStop(into output: inout ByteBuffer) {
        output.writeStaticString("event: message_stop\ndata: ")
        output.writeStaticString(#"{"type":"message_stop"}"#)
        output.writeStaticString("\n\n")
    }
}
