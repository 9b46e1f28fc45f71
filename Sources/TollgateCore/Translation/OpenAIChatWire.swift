// The parts of OpenAI's response and stream-chunk bodies the gateway reads. Field names
// follow the wire (snake_case) so the types read like the API reference; everything is
// optional because OpenAI-compatible providers differ in what they send.

enum OpenAIChatWire {
    struct Function: Decodable {
        var name: String?
        var arguments: String?
    }

    struct ToolCall: Decodable {
        var index: Int?
        var id: String?
        var type: String?
        var function: Function?
    }

    /// A message (`chat.completion`) or a delta (`chat.completion.chunk`): the same fields.
    struct Message: Decodable {
        var role: String?
        var content: FlexibleText?
        var refusal: String?
        /// DeepSeek, vLLM and others put reasoning text here.
        var reasoning_content: String?
        var tool_calls: [ToolCall]?
    }

    struct Choice: Decodable {
        var index: Int?
        var message: Message?
        var delta: Message?
        var finish_reason: String?
    }

    struct ErrorPayload: Decodable {
        var message: String?
        var type: String?
        var code: FlexibleText?
    }

    /// A whole response or one stream chunk.
    struct Body: Decodable {
        var id: String?
        var model: String?
        var created: Int?
        var choices: [Choice]?
        var usage: TokenUsage.OpenAIWire?
        var error: ErrorPayload?
    }

    /// A string, or (from some compatible providers) an array of text parts, or a number
    /// (error codes): whatever it is, its text.
    struct FlexibleText: Decodable {
        var text: String

        init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            if let text = try? single.decode(String.self) {
                self.text = text
            } else if let number = try? single.decode(Int.self) {
                self.text = String(number)
            } else {
                let parts = try single.decode([JSONObject].self)
                self.text = parts.compactMap { $0["text"]?.stringValue }.joined()
            }
        }
    }
}
