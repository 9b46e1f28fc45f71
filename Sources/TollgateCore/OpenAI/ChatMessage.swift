/// One message of a Chat Completions conversation. Content may be a string, an array of
/// content parts (text, images, audio...) or absent (assistant tool calls).
public struct ChatMessage: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case system, developer, user, assistant, tool, function
    }

    public var role: Role
    public var content: MessageContent?
    public var name: String?
    public var toolCalls: [JSONValue]?
    public var toolCallID: String?
    public var additionalFields: JSONObject

    public init(role: Role, content: MessageContent?, name: String? = nil) {
        self.role = role
        self.content = content
        self.name = name
        self.additionalFields = JSONObject()
    }
}

/// Message content: plain text, or a list of typed parts kept whole.
public enum MessageContent: Sendable, Hashable {
    case text(String)
    case parts([JSONObject])

    /// The text of the message: the string, or the text parts joined by newlines.
    public var text: String {
        switch self {
        case .text(let text): return text
        case .parts(let parts):
            return parts.compactMap { part in
                part["type"]?.stringValue == "text" ? part["text"]?.stringValue : nil
            }.joined(separator: "\n")
        }
    }

    /// True when any part is an image.
    public var hasImage: Bool {
        guard case .parts(let parts) = self else { return false }
        return parts.contains { $0["type"]?.stringValue == "image_url" }
    }
}

extension MessageContent: Codable {
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let text = try? single.decode(String.self) {
            self = .text(text)
            return
        }
        guard let parts = try? single.decode([JSONObject].self) else {
            throw DecodingError.typeMismatch(
                MessageContent.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected a string or an array of content parts")
            )
        }
        for (index, part) in parts.enumerated() where part["type"]?.stringValue == nil {
            throw RequestValidationError(
                message: "Missing required parameter: '\(CodingPathFormatter.format(decoder.codingPath)).[\(index)].type'.",
                param: "\(CodingPathFormatter.format(decoder.codingPath))[\(index)].type"
            )
        }
        self = .parts(parts)
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .text(let text): try single.encode(text)
        case .parts(let parts): try single.encode(parts)
        }
    }
}

extension ChatMessage: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        var role: Role?
        self.additionalFields = JSONObject()
        for key in container.allKeys {
            switch key.stringValue {
            case "role":
                let raw = try container.decode(String.self, forKey: key)
                guard let parsed = Role(rawValue: raw) else {
                    let path = CodingPathFormatter.format(decoder.codingPath + [key])
                    throw RequestValidationError(
                        message: "Invalid value for '\(path)': '\(raw)'. Supported values are: "
                            + Role.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ".",
                        param: path
                    )
                }
                role = parsed
            case "content":
                self.content = try container.decodeIfPresent(MessageContent.self, forKey: key)
            case "name": self.name = try container.decodeIfPresent(String.self, forKey: key)
            case "tool_calls": self.toolCalls = try container.decodeIfPresent([JSONValue].self, forKey: key)
            case "tool_call_id": self.toolCallID = try container.decodeIfPresent(String.self, forKey: key)
            default: self.additionalFields[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
            }
        }
        guard let role else {
            throw RequestValidationError.missing(CodingPathFormatter.format(decoder.codingPath + [JSONKey("role")]))
        }
        self.role = role
        if self.content == nil && role != .assistant {
            throw RequestValidationError.missing(CodingPathFormatter.format(decoder.codingPath + [JSONKey("content")]))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(self.role.rawValue, forKey: JSONKey("role"))
        if let content { try container.encode(content, forKey: JSONKey("content")) }
        try container.encodeIfPresent(self.name, forKey: JSONKey("name"))
        try container.encodeIfPresent(self.toolCalls, forKey: JSONKey("tool_calls"))
        try container.encodeIfPresent(self.toolCallID, forKey: JSONKey("tool_call_id"))
        try self.additionalFields.encodeEntries(into: &container)
    }
}
