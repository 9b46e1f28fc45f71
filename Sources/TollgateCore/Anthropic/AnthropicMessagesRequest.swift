/// An Anthropic Messages request body (`POST /v1/messages`). The fields the gateway reads or
/// translates are typed; every other field is kept in `additionalFields` and encoded back
/// unchanged, so an Anthropic-to-Anthropic request loses nothing.
public struct AnthropicMessagesRequest: Sendable, Hashable {
    public var model: String
    public var messages: [AnthropicMessage]
    /// Required by Anthropic (no default on their side).
    public var maxTokens: Int
    /// A string or text blocks.
    public var system: AnthropicContent?
    public var stream: Bool?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var stopSequences: [String]?
    /// Anthropic accepts only `user_id` here.
    public var metadata: JSONObject?
    public var tools: [JSONObject]?
    public var toolChoice: JSONObject?
    public var thinking: JSONObject?
    /// Fields the gateway does not model, passed through untouched.
    public var additionalFields: JSONObject

    public init(model: String, messages: [AnthropicMessage], maxTokens: Int, stream: Bool? = nil) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.stream = stream
        self.additionalFields = JSONObject()
    }

    /// True when the client asked for a server-sent event stream.
    public var isStreaming: Bool { self.stream ?? false }

    /// The end user the app attributes the request to (`metadata.user_id`).
    public var userID: String? { self.metadata?["user_id"]?.stringValue }
}

extension AnthropicMessagesRequest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        var model: String?
        var messages: [AnthropicMessage]?
        var maxTokens: Int?
        self.additionalFields = JSONObject()
        for key in container.allKeys {
            switch key.stringValue {
            case "model": model = try container.decode(String.self, forKey: key)
            case "messages": messages = try container.decode([AnthropicMessage].self, forKey: key)
            case "max_tokens": maxTokens = try container.decode(Int.self, forKey: key)
            case "system": self.system = try container.decodeIfPresent(AnthropicContent.self, forKey: key)
            case "stream": self.stream = try container.decodeIfPresent(Bool.self, forKey: key)
            case "temperature": self.temperature = try container.decodeIfPresent(Double.self, forKey: key)
            case "top_p": self.topP = try container.decodeIfPresent(Double.self, forKey: key)
            case "top_k": self.topK = try container.decodeIfPresent(Int.self, forKey: key)
            case "stop_sequences": self.stopSequences = try container.decodeIfPresent([String].self, forKey: key)
            case "metadata": self.metadata = try container.decodeIfPresent(JSONObject.self, forKey: key)
            case "tools": self.tools = try container.decodeIfPresent([JSONObject].self, forKey: key)
            case "tool_choice": self.toolChoice = try container.decodeIfPresent(JSONObject.self, forKey: key)
            case "thinking": self.thinking = try container.decodeIfPresent(JSONObject.self, forKey: key)
            default: self.additionalFields[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
            }
        }
        guard let model else { throw RequestValidationError.missing("model") }
        guard let messages else { throw RequestValidationError.missing("messages") }
        guard let maxTokens else { throw RequestValidationError.missing("max_tokens") }
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        try self.validate()
    }

    private func validate() throws {
        guard !self.messages.isEmpty else {
            throw RequestValidationError(message: "'messages' must contain at least one message.", param: "messages")
        }
        if self.maxTokens < 1 {
            throw RequestValidationError(message: "'max_tokens' must be at least 1, got \(self.maxTokens).", param: "max_tokens")
        }
        if let temperature, !(0...1).contains(temperature) {
            throw RequestValidationError(message: "'temperature' must be between 0 and 1.", param: "temperature")
        }
        if let topP, !(0...1).contains(topP) {
            throw RequestValidationError(message: "'top_p' must be between 0 and 1.", param: "top_p")
        }
        if let topK, topK < 0 {
            throw RequestValidationError(message: "'top_k' must be at least 0, got \(topK).", param: "top_k")
        }
        if case .blocks(let blocks) = self.system {
            for (index, block) in blocks.enumerated() where block["type"]?.stringValue != "text" {
                throw RequestValidationError(
                    message: "'system[\(index)].type' must be 'text'.", param: "system[\(index)].type"
                )
            }
        }
        for (index, tool) in (self.tools ?? []).enumerated() where tool["name"]?.stringValue == nil {
            throw RequestValidationError.missing("tools[\(index)].name")
        }
        if let toolChoice, toolChoice["type"]?.stringValue == nil {
            throw RequestValidationError.missing("tool_choice.type")
        }
        if let toolChoice, toolChoice["type"]?.stringValue == "tool", toolChoice["name"]?.stringValue == nil {
            throw RequestValidationError.missing("tool_choice.name")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(self.model, forKey: JSONKey("model"))
        try container.encode(self.messages, forKey: JSONKey("messages"))
        try container.encode(self.maxTokens, forKey: JSONKey("max_tokens"))
        try container.encodeIfPresent(self.system, forKey: JSONKey("system"))
        try container.encodeIfPresent(self.stream, forKey: JSONKey("stream"))
        try container.encodeIfPresent(self.temperature, forKey: JSONKey("temperature"))
        try container.encodeIfPresent(self.topP, forKey: JSONKey("top_p"))
        try container.encodeIfPresent(self.topK, forKey: JSONKey("top_k"))
        try container.encodeIfPresent(self.stopSequences, forKey: JSONKey("stop_sequences"))
        try container.encodeIfPresent(self.metadata, forKey: JSONKey("metadata"))
        try container.encodeIfPresent(self.tools, forKey: JSONKey("tools"))
        try container.encodeIfPresent(self.toolChoice, forKey: JSONKey("tool_choice"))
        try container.encodeIfPresent(self.thinking, forKey: JSONKey("thinking"))
        try self.additionalFields.encodeEntries(into: &container)
    }
}
