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

extension MessageContent {
    /// Content in a parsed body: a string, or an array of parts that each name their `type`.
    init(json value: JSONValue, path: String) throws(RequestValidationError) {
        switch value {
        case .string(let text):
            self = .text(text)
        case .array(let elements):
            var parts: [JSONObject] = []
            parts.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                guard case .object(let part) = element else {
                    throw .wrongType(path, expected: "a string or an array of content parts")
                }
                guard part["type"]?.stringValue != nil else { throw .missing("\(path)[\(index)].type") }
                parts.append(part)
            }
            self = .parts(parts)
        default:
            throw .wrongType(path, expected: "a string or an array of content parts")
        }
    }
}

extension MessageContent: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: try JSONValue(from: decoder), path: CodingPathFormatter.format(decoder.codingPath))
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .text(let text): try single.encode(text)
        case .parts(let parts): try single.encode(parts)
        }
    }
}

extension ChatMessage {
    /// The message in a parsed body; `path` is its place, e.g. `messages[0]`.
    init(json value: JSONValue, path: String) throws(RequestValidationError) {
        guard case .object(let object) = value else { throw .wrongType(path, expected: "an object") }
        var role: Role?
        self.additionalFields = JSONObject()
        for key in object.keys {
            let member = object.storage[key]!
            let param = RequestMember.path(path, key)
            switch key {
            case "role":
                let raw = try RequestMember.requiredString(member, at: param)
                guard let parsed = Role(rawValue: raw) else {
                    throw RequestValidationError(
                        message: "Invalid value for '\(param)': '\(raw)'. Supported values are: "
                            + Role.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ".",
                        param: param
                    )
                }
                role = parsed
            case "content":
                self.content = member == .null ? nil : try MessageContent(json: member, path: param)
            case "name": self.name = try RequestMember.string(member, at: param)
            case "tool_calls": self.toolCalls = try RequestMember.array(member, at: param)
            case "tool_call_id": self.toolCallID = try RequestMember.string(member, at: param)
            default: self.additionalFields[key] = member
            }
        }
        guard let role else { throw .missing(RequestMember.path(path, "role")) }
        self.role = role
        if self.content == nil && role != .assistant {
            throw .missing(RequestMember.path(path, "content"))
        }
    }
}

extension ChatMessage: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: try JSONValue(from: decoder), path: CodingPathFormatter.format(decoder.codingPath))
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
