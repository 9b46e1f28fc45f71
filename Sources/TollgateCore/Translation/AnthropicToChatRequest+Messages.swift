// Anthropic turns → OpenAI messages.
extension AnthropicToChatTranslator {
    mutating func translate(_ message: AnthropicMessage, path: String) throws(GatewayError) -> [ChatMessage] {
        for (key, value) in message.additionalFields where !value.isNoOp {
            try self.log.unsupported("\(path).\(key)")
        }
        switch message.role {
        case .user: return try self.userMessages(message.content, path: path)
        case .assistant: return [try self.assistantMessage(message.content, path: path)]
        }
    }

    /// A user turn may mix tool results and new content: each `tool_result` becomes a `tool`
    /// message where it stands, the blocks around them user messages.
    private mutating func userMessages(_ content: AnthropicContent, path: String) throws(GatewayError) -> [ChatMessage] {
        guard case .blocks(let blocks) = content else { return [ChatMessage(role: .user, content: .text(content.text))] }
        var messages: [ChatMessage] = []
        var parts: [JSONObject] = []
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path).content[\(index)]"
            switch block["type"]?.stringValue {
            case "text":
                if let part = try self.textPart(block, path: blockPath) { parts.append(part) }
            case "image":
                if let part = try self.imagePart(block, path: blockPath) { parts.append(part) }
            case "document":
                if let part = try self.documentPart(block, path: blockPath) { parts.append(part) }
            case "tool_result":
                if !parts.isEmpty {
                    messages.append(ChatMessage(role: .user, content: Self.simplify(parts)))
                    parts = []
                }
                messages.append(try self.toolMessage(block, path: blockPath))
            default:
                try self.log.unsupported(blockPath, "content blocks of type '\(block["type"]?.stringValue ?? "")' have no Chat Completions equivalent")
            }
        }
        if !parts.isEmpty { messages.append(ChatMessage(role: .user, content: Self.simplify(parts))) }
        return messages
    }

    private mutating func imagePart(_ block: JSONObject, path: String) throws(GatewayError) -> JSONObject? {
        guard let source = block["source"]?.objectValue else { throw .invalidBody(.missing("\(path).source")) }
        let url: String
        switch source["type"]?.stringValue {
        case "base64":
            guard let mediaType = source["media_type"]?.stringValue, let data = source["data"]?.stringValue else {
                throw .invalidBody(.missing("\(path).source.data"))
            }
            url = "data:\(mediaType);base64,\(data)"
        case "url":
            guard let link = source["url"]?.stringValue else { throw .invalidBody(.missing("\(path).source.url")) }
            url = link
        default:
            try self.log.unsupported("\(path).source", "only base64 and URL image sources can be sent to this provider")
            return nil
        }
        if block["cache_control"] != nil { self.log.hint("\(path).cache_control") }
        return ["type": "image_url", "image_url": .object(["url": .string(url)])]
    }

    /// PDFs become OpenAI `file` parts; plain-text documents become text.
    private mutating func documentPart(_ block: JSONObject, path: String) throws(GatewayError) -> JSONObject? {
        let source = block["source"]?.objectValue
        for key in ["cache_control", "citations", "context"] where block[key] != nil { self.log.hint("\(path).\(key)") }
        switch (source?["type"]?.stringValue, source?["media_type"]?.stringValue) {
        case ("base64", "application/pdf"):
            guard let data = source?["data"]?.stringValue else { throw .invalidBody(.missing("\(path).source.data")) }
            let name = block["title"]?.stringValue ?? "document.pdf"
            return ["type": "file", "file": .object(["filename": .string(name), "file_data": .string("data:application/pdf;base64,\(data)")])]
        case ("text", _):
            guard let data = source?["data"]?.stringValue else { throw .invalidBody(.missing("\(path).source.data")) }
            let title = block["title"]?.stringValue
            return ["type": "text", "text": .string(title.map { "\($0)\n\n\(data)" } ?? data)]
        default:
            try self.log.unsupported("\(path).source", "only base64 PDF and plain-text documents can be sent to this provider")
            return nil
        }
    }

    /// Tool results are text in Chat Completions; an error result says so in words, since
    /// OpenAI has no `is_error` flag.
    private mutating func toolMessage(_ block: JSONObject, path: String) throws(GatewayError) -> ChatMessage {
        guard let id = block["tool_use_id"]?.stringValue else { throw .invalidBody(.missing("\(path).tool_use_id")) }
        var text: String
        switch block["content"] {
        case nil, .null?: text = ""
        case .string(let content)?: text = content
        case .array(let items)?:
            var pieces: [String] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).content[\(index)]"
                if item["type"]?.stringValue == "text", let piece = item["text"]?.stringValue {
                    pieces.append(piece)
                } else {
                    try self.log.unsupported(itemPath, "tool results sent to this provider can only hold text")
                }
            }
            text = pieces.joined(separator: "\n")
        default:
            throw .invalidRequest("Invalid type for '\(path).content': expected a string or an array of content blocks.", param: "\(path).content")
        }
        if block["is_error"] == .bool(true) { text = "Error: " + text }
        if block["cache_control"] != nil { self.log.hint("\(path).cache_control") }
        var message = ChatMessage(role: .tool, content: .text(text))
        message.toolCallID = id
        return message
    }

    /// Text blocks join into the content string (Anthropic only splits an answer's text around
    /// other blocks); `tool_use` blocks become `tool_calls`.
    private mutating func assistantMessage(_ content: AnthropicContent, path: String) throws(GatewayError) -> ChatMessage {
        guard case .blocks(let blocks) = content else { return ChatMessage(role: .assistant, content: .text(content.text)) }
        var text = ""
        var calls: [JSONValue] = []
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path).content[\(index)]"
            switch block["type"]?.stringValue {
            case "text":
                if let part = try self.textPart(block, path: blockPath), let piece = part["text"]?.stringValue { text += piece }
            case "tool_use":
                guard let id = block["id"]?.stringValue else { throw .invalidBody(.missing("\(blockPath).id")) }
                guard let name = block["name"]?.stringValue else { throw .invalidBody(.missing("\(blockPath).name")) }
                let arguments = (block["input"] ?? .object([:])).jsonText
                calls.append(.object([
                    "id": .string(id), "type": "function",
                    "function": .object(["name": .string(name), "arguments": .string(arguments)]),
                ]))
                if block["cache_control"] != nil { self.log.hint("\(blockPath).cache_control") }
            case "thinking", "redacted_thinking":
                // The model's earlier reasoning: Anthropic needs it back, other models cannot use it.
                self.log.hint(blockPath)
            default:
                try self.log.unsupported(blockPath, "content blocks of type '\(block["type"]?.stringValue ?? "")' have no Chat Completions equivalent")
            }
        }
        var message = ChatMessage(role: .assistant, content: text.isEmpty && !calls.isEmpty ? nil : .text(text))
        if !calls.isEmpty { message.toolCalls = calls }
        return message
    }
}
