// The parts of Anthropic's response and stream-event bodies the gateway reads. Field names
// follow the wire (snake_case) so the types read like the API reference.

enum AnthropicWire {
    struct Usage: Decodable {
        var input_tokens: Int?
        var output_tokens: Int?
        var cache_creation_input_tokens: Int?
        var cache_read_input_tokens: Int?
    }

    struct Block: Decodable {
        var type: String
        var text: String?
        var id: String?
        var name: String?
        var input: JSONValue?
        var thinking: String?
    }

    /// A whole `message` response; also the `message` of a `message_start` event.
    struct Message: Decodable {
        var id: String?
        var model: String?
        var content: [Block]?
        var stop_reason: String?
        var stop_sequence: String?
        var usage: Usage?
    }

    struct Delta: Decodable {
        var type: String?
        var text: String?
        var partial_json: String?
        var thinking: String?
        var stop_reason: String?
        var stop_sequence: String?
    }

    struct ErrorPayload: Decodable {
        var type: String?
        var message: String?
    }

    /// Any stream event: `type` says which of the other fields are set.
    struct Event: Decodable {
        var type: String
        var message: Message?
        var index: Int?
        var content_block: Block?
        var delta: Delta?
        var usage: Usage?
        var error: ErrorPayload?
    }
}
