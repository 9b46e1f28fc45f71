/// One turn of an Anthropic Messages conversation.
public struct AnthropicMessage: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case user, assistant
    }

    public var role: Role
    public var content: AnthropicContent
    /// Fields the gateway does not model, passed through untouched.
    public var additionalFields: JSONObject

    public init(role: Role, content: AnthropicContent) {
        self.role = role
        self.content = content
        self.additionalFields = JSONObject()
    }
}

/// Message or system content: a plain string, or content blocks kept whole (`text`, `image`,
/// `tool_use`, `tool_result`, `thinking`, `document`...), each with its `type`.
public enum AnthropicContent: Sendable, Hashable {
    case text(String)
    case blocks([JSONObject])

    /// The content as blocks: a string becomes one text block.
    public var contentBlocks: [JSONObject] {
        switch self {
        case .text(let text): [["type": .string("text"), "text": .string(text)]]
        case .blocks(let blocks): blocks
        }
    }

    /// The text of the content: the string, or the text blocks joined by newlines.
    public var text: String {
        switch self {
        case .text(let text): text
        case .blocks(let blocks):
            blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined(separator: "\n")
        }
    }

    /// True when any block is an image.
    public var hasImage: Bool {
        guard case .blocks(let blocks) = self else { return false }
        return blocks.contains { $0["type"]?.stringValue == "image" }
    }
}

extension AnthropicContent: Codable {
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let text = try? single.decode(String.self) {
            self = .text(text)
            return
        }
        guard let blocks = try? single.decode([JSONObject].self) else {
            throw DecodingError.typeMismatch(
                AnthropicContent.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected a string or an array of content blocks")
            )
        }
        let path = CodingPathFormatter.format(decoder.codingPath)
        for (index, block) in blocks.enumerated() where block["type"]?.stringValue == nil {
            throw RequestValidationError.missing("\(path)[\(index)].type")
        }
        self = .blocks(blocks)
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .text(let text): try single.encode(text)
        case .blocks(let blocks): try single.encode(blocks)
        }
    }
}

extension AnthropicMessage: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        var role: Role?
        var content: AnthropicContent?
        self.additionalFields = JSONObject()
        for key in container.allKeys {
            switch key.stringValue {
            case "role":
                let raw = try container.decode(String.self, forKey: key)
                guard let parsed = Role(rawValue: raw) else {
                    let path = CodingPathFormatter.format(decoder.codingPath + [key])
                    throw RequestValidationError(
                        message: "Invalid value for '\(path)': '\(raw)'. Supported values are: 'user' and 'assistant'."
                            + (raw == "system" ? " Put system prompts in the top-level 'system' parameter." : ""),
                        param: path
                    )
                }
                role = parsed
            case "content": content = try container.decode(AnthropicContent.self, forKey: key)
            default: self.additionalFields[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
            }
        }
        guard let role else { throw RequestValidationError.missing(CodingPathFormatter.format(decoder.codingPath + [JSONKey("role")])) }
        guard let content else {
            throw RequestValidationError.missing(CodingPathFormatter.format(decoder.codingPath + [JSONKey("content")]))
        }
        self.role = role
        self.content = content
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(self.role.rawValue, forKey: JSONKey("role"))
        try container.encode(self.content, forKey: JSONKey("content"))
        try self.additionalFields.encodeEntries(into: &container)
    }
}
