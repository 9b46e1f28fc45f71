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

extension ChatCompletionRequest {
    /// Parses a request body (the gateway's hot path: one pass over the bytes, no `Decoder`).
    public init(body: UnsafeRawBufferPointer) throws(RequestValidationError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw .notJSON(error)
        }
        try self.init(json: value)
    }

    /// The request in a parsed body; `path` names where it sits for error messages (empty
    /// at the top level).
    public init(json value: JSONValue, path: String = "") throws(RequestValidationError) {
        guard case .object(let object) = value else {
            throw path.isEmpty ? .notAnObject : .wrongType(path, expected: "an object")
        }
        var model: String?
        var messages: [ChatMessage]?
        self.additionalFields = JSONObject()
        for key in object.keys {
            let member = object.storage[key]!
            let param = RequestMember.path(path, key)
            switch key {
            case "model": model = try RequestMember.requiredString(member, at: param)
            case "messages":
                let elements = try RequestMember.requiredArray(member, at: param)
                var decoded: [ChatMessage] = []
                decoded.reserveCapacity(elements.count)
                for (index, element) in elements.enumerated() {
                    decoded.append(try ChatMessage(json: element, path: "\(param)[\(index)]"))
                }
                messages = decoded
            case "stream": self.stream = try RequestMember.bool(member, at: param)
            case "stream_options": self.streamOptions = try RequestMember.object(member, at: param)
            case "max_tokens": self.maxTokens = try RequestMember.int(member, at: param)
            case "max_completion_tokens": self.maxCompletionTokens = try RequestMember.int(member, at: param)
            case "temperature": self.temperature = try RequestMember.double(member, at: param)
            case "top_p": self.topP = try RequestMember.double(member, at: param)
            case "n": self.n = try RequestMember.int(member, at: param)
            case "stop": self.stop = member == .null ? nil : member
            case "user": self.user = try RequestMember.string(member, at: param)
            case "tools": self.tools = try RequestMember.array(member, at: param)
            case "tool_choice": self.toolChoice = member == .null ? nil : member
            case "response_format": self.responseFormat = member == .null ? nil : member
            default: self.additionalFields[key] = member
            }
        }
        guard let model else { throw .missing(RequestMember.path(path, "model")) }
        guard let messages else { throw .missing(RequestMember.path(path, "messages")) }
        guard !messages.isEmpty else {
            throw RequestValidationError(message: "'messages' must contain at least one message.", param: RequestMember.path(path, "messages"))
        }
        self.model = model
        self.messages = messages
        try self.validateRanges()
    }

    private func validateRanges() throws(RequestValidationError) {
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
}

extension ChatCompletionRequest: Codable {
    /// Through `JSONValue`, so a request decoded by any `Decoder` is checked exactly like a
    /// request body.
    public init(from decoder: any Decoder) throws {
        try self.init(json: try JSONValue(from: decoder), path: CodingPathFormatter.format(decoder.codingPath))
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
