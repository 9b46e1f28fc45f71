/// An OpenAI Chat Completions request body. The fields the gateway reads are typed; every
/// other field is kept in `additionalFields` and encoded back unchanged.
public struct ChatCompletionRequest: Sendable, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var stream: Bool?
    public var streamOptions: JSONObject?
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var n: Int?
    public var stop: JSONValue?
    public var user: String?
    public var tools: [JSONValue]?
    public var toolChoice: JSONValue?
    public var responseFormat: JSONValue?
    /// Fields the gateway does not model, passed through untouched.
    public var additionalFields: JSONObject

    public init(model: String, messages: [ChatMessage], stream: Bool? = nil) {
        self.model = model
        self.messages = messages
        self.stream = stream
        self.additionalFields = JSONObject()
    }

    /// True when the client asked for a server-sent event stream.
    public var isStreaming: Bool { self.stream ?? false }

    /// The output cap the client asked for, whichever of the two spellings it used.
    public var outputTokenLimit: Int? { self.maxCompletionTokens ?? self.maxTokens }

    /// True when the client asked for the usage chunk at the end of a stream.
    public var includesStreamUsage: Bool { self.streamOptions?["include_usage"] == .bool(true) }

    /// Asks the provider for the usage chunk, which the gateway needs to price every stream,
    /// and returns whether the client had asked for it itself (if not, the gateway removes
    /// that chunk again: `OpenAIStreamPassthrough(clientWantsUsage:)`).
    public mutating func requestStreamUsage() -> Bool {
        let wanted = self.includesStreamUsage
        var options = self.streamOptions ?? JSONObject()
        options["include_usage"] = .bool(true)
        self.streamOptions = options
        return wanted
    }
}

extension ChatCompletionRequest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        var model: String?
        var messages: [ChatMessage]?
        self.additionalFields = JSONObject()
        for key in container.allKeys {
            switch key.stringValue {
            case "model": model = try container.decode(String.self, forKey: key)
            case "messages": messages = try container.decode([ChatMessage].self, forKey: key)
            case "stream": self.stream = try container.decodeIfPresent(Bool.self, forKey: key)
            case "stream_options": self.streamOptions = try container.decodeIfPresent(JSONObject.self, forKey: key)
            case "max_tokens": self.maxTokens = try container.decodeIfPresent(Int.self, forKey: key)
            case "max_completion_tokens": self.maxCompletionTokens = try container.decodeIfPresent(Int.self, forKey: key)
            case "temperature": self.temperature = try container.decodeIfPresent(Double.self, forKey: key)
            case "top_p": self.topP = try container.decodeIfPresent(Double.self, forKey: key)
            case "n": self.n = try container.decodeIfPresent(Int.self, forKey: key)
            case "stop": self.stop = try container.decodeIfPresent(JSONValue.self, forKey: key)
            case "user": self.user = try container.decodeIfPresent(String.self, forKey: key)
            case "tools": self.tools = try container.decodeIfPresent([JSONValue].self, forKey: key)
            case "tool_choice": self.toolChoice = try container.decodeIfPresent(JSONValue.self, forKey: key)
            case "response_format": self.responseFormat = try container.decodeIfPresent(JSONValue.self, forKey: key)
            default: self.additionalFields[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
            }
        }
        guard let model else { throw RequestValidationError.missing("model") }
        guard let messages else { throw RequestValidationError.missing("messages") }
        guard !messages.isEmpty else {
            throw RequestValidationError(message: "'messages' must contain at least one message.", param: "messages")
        }
        self.model = model
        self.messages = messages
        try self.validateRanges()
    }

    private func validateRanges() throws {
        if let maxTokens, maxTokens < 1 {
            throw RequestValidationError(message: "'max_tokens' must be at least 1, got \(maxTokens).", param: "max_tokens")
        }
        if let maxCompletionTokens, maxCompletionTokens < 1 {
            throw RequestValidationError(
                message: "'max_completion_tokens' must be at least 1, got \(maxCompletionTokens).",
                param: "max_completion_tokens"
            )
        }
        if let n, n < 1 {
            throw RequestValidationError(message: "'n' must be at least 1, got \(n).", param: "n")
        }
        if let temperature, !(0...2).contains(temperature) {
            throw RequestValidationError(message: "'temperature' must be between 0 and 2.", param: "temperature")
        }
        if let topP, !(0...1).contains(topP) {
            throw RequestValidationError(message: "'top_p' must be between 0 and 1.", param: "top_p")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(self.model, forKey: JSONKey("model"))
        try container.encode(self.messages, forKey: JSONKey("messages"))
        try container.encodeIfPresent(self.stream, forKey: JSONKey("stream"))
        try container.encodeIfPresent(self.streamOptions, forKey: JSONKey("stream_options"))
        try container.encodeIfPresent(self.maxTokens, forKey: JSONKey("max_tokens"))
        try container.encodeIfPresent(self.maxCompletionTokens, forKey: JSONKey("max_completion_tokens"))
        try container.encodeIfPresent(self.temperature, forKey: JSONKey("temperature"))
        try container.encodeIfPresent(self.topP, forKey: JSONKey("top_p"))
        try container.encodeIfPresent(self.n, forKey: JSONKey("n"))
        try container.encodeIfPresent(self.stop, forKey: JSONKey("stop"))
        try container.encodeIfPresent(self.user, forKey: JSONKey("user"))
        try container.encodeIfPresent(self.tools, forKey: JSONKey("tools"))
        try container.encodeIfPresent(self.toolChoice, forKey: JSONKey("tool_choice"))
        try container.encodeIfPresent(self.responseFormat, forKey: JSONKey("response_format"))
        try self.additionalFields.encodeEntries(into: &container)
    }
}
