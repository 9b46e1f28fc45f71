// OpenAI messages → Anthropic `system` and turns.
extension ChatToAnthropicTranslator {
    struct Conversation {
        var system: [JSONObject] = []
        var messages: [AnthropicMessage] = []
    }

    /// System and developer messages go to `system` in order; tool results become
    /// `tool_result` blocks in a user turn; consecutive turns of one role merge into one,
    /// since Anthropic wants user and assistant turns to alternate.
    mutating func translateMessages(_ messages: [ChatMessage]) throws(GatewayError) -> Conversation {
        var conversation = Conversation()
        var turns: [(role: AnthropicMessage.Role, blocks: [JSONObject])] = []
        for (index, message) in messages.enumerated() {
            let path = "messages[\(index)]"
            try self.checkMessageFields(message, path: path)
            let role: AnthropicMessage.Role
            let blocks: [JSONObject]
            switch message.role {
            case .system, .developer:
                if !turns.isEmpty {
                    self.log.adjust("\(path) (a \(message.role.rawValue) message after the conversation started, moved into 'system')")
                }
                conversation.system += try self.blocks(message.content, path: path, allowed: .text)
                continue
            case .user:
                role = .user
                blocks = try self.blocks(message.content, path: path, allowed: .user)
            case .assistant:
                role = .assistant
                blocks = try self.assistantBlocks(message, path: path)
            case .tool:
                role = .user
                blocks = [try self.toolResult(message, path: path)]
            case .function:
                try self.log.unsupported("\(path).role", "legacy 'function' messages; use tools and 'tool' messages")
                continue
            }
            guard !blocks.isEmpty else { continue }
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        guard !turns.isEmpty else {
            throw .invalidRequest("'messages' must contain at least one user or assistant message.", param: "messages")
        }
        conversation.messages = turns.map { AnthropicMessage(role: $0.role, content: Self.simplify($0.blocks) ?? .blocks([])) }
        return conversation
    }

    private mutating func checkMessageFields(_ message: ChatMessage, path: String) throws(GatewayError) {
        if message.name != nil { try self.log.unsupported("\(path).name", "Anthropic messages have no participant names") }
        for (key, value) in message.additionalFields {
            switch key {
            case "refusal" where message.role == .assistant: continue
            case "cache_control": self.log.hint("\(path).cache_control")
            default: if !value.isNoOp { try self.log.unsupported("\(path).\(key)") }
            }
        }
    }

    // MARK: - Content

    enum AllowedParts { case text, user, assistant }

    /// Content parts as Anthropic blocks; empty text is left out (Anthropic rejects it).
    mutating func blocks(_ content: MessageContent?, path: String, allowed: AllowedParts) throws(GatewayError) -> [JSONObject] {
        switch content {
        case nil: return []
        case .text(let text)?: return text.isEmpty ? [] : [Self.textBlock(text)]
        case .parts(let parts)?:
            var blocks: [JSONObject] = []
            for (index, part) in parts.enumerated() {
                if let block = try self.block(part, path: "\(path).content[\(index)]", allowed: allowed) { blocks.append(block) }
            }
            return blocks
        }
    }

    private mutating func block(_ part: JSONObject, path: String, allowed: AllowedParts) throws(GatewayError) -> JSONObject? {
        let type = part["type"]?.stringValue ?? ""
        var block: JSONObject
        var known: Set<String> = ["type", "cache_control"]
        switch (type, allowed) {
        case ("text", _):
            guard let text = part["text"]?.stringValue else { throw .invalidBody(.missing("\(path).text")) }
            if text.isEmpty { return nil }
            block = Self.textBlock(text)
            known.insert("text")
        case ("refusal", .assistant):
            guard let text = part["refusal"]?.stringValue, !text.isEmpty else { return nil }
            block = Self.textBlock(text)
            known.insert("refusal")
        case ("image_url", .user):
            let image = part["image_url"]
            guard let url = image?["url"]?.stringValue ?? image?.stringValue else {
                throw .invalidBody(.missing("\(path).image_url.url"))
            }
            if let detail = image?["detail"]?.stringValue, detail != "auto" { self.log.hint("\(path).image_url.detail") }
            block = ["type": "image", "source": .object(try Self.imageSource(url, path: "\(path).image_url.url"))]
            known.insert("image_url")
        case ("file", .user):
            guard let data = part["file"]?["file_data"]?.stringValue, let source = Self.base64Source(data),
                source["media_type"] == "application/pdf"
            else {
                try self.log.unsupported(path, "only PDF files sent inline as 'file_data' can be passed to Anthropic")
                return nil
            }
            block = ["type": "document", "source": .object(source)]
            known.insert("file")
        default:
            try self.log.unsupported(path, "content parts of type '\(type)' cannot be sent here")
            return nil
        }
        if let cacheControl = part["cache_control"] { block["cache_control"] = cacheControl }
        for (key, value) in part where !known.contains(key) && !value.isNoOp {
            try self.log.unsupported("\(path).\(key)")
        }
        return block
    }

    /// `data:` URLs become base64 sources, http(s) URLs URL sources.
    static func imageSource(_ url: String, path: String) throws(GatewayError) -> JSONObject {
        if url.hasPrefix("data:") {
            guard let source = Self.base64Source(url) else {
                throw .invalidRequest("Invalid value for '\(path)': a data URL must be base64 encoded (data:image/png;base64,...).", param: path)
            }
            return source
        }
        if url.hasPrefix("https://") || url.hasPrefix("http://") { return ["type": "url", "url": .string(url)] }
        throw .invalidRequest("Invalid value for '\(path)': expected an http(s) URL or a base64 data URL.", param: path)
    }

    /// `data:<media type>;base64,<data>` as an Anthropic base64 source.
    static func base64Source(_ url: String) -> JSONObject? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { return nil }
        let mediaType = header.dropLast(";base64".count)
        return ["type": "base64", "media_type": .string(String(mediaType)), "data": .string(String(url[url.index(after: comma)...]))]
    }

    // MARK: - Assistant and tool turns

    private mutating func assistantBlocks(_ message: ChatMessage, path: String) throws(GatewayError) -> [JSONObject] {
        var blocks = try self.blocks(message.content, path: path, allowed: .assistant)
        if blocks.isEmpty, let refusal = message.additionalFields["refusal"]?.stringValue, !refusal.isEmpty {
            blocks.append(Self.textBlock(refusal))
        }
        for (index, call) in (message.toolCalls ?? []).enumerated() {
            blocks.append(try Self.toolUse(call, path: "\(path).tool_calls[\(index)]"))
        }
        return blocks
    }

    static func toolUse(_ call: JSONValue, path: String) throws(GatewayError) -> JSONObject {
        guard let id = call["id"]?.stringValue else { throw .invalidBody(.missing("\(path).id")) }
        guard let name = call["function"]?["name"]?.stringValue else { throw .invalidBody(.missing("\(path).function.name")) }
        let arguments = call["function"]?["arguments"]?.stringValue ?? ""
        var input = JSONObject()
        if !arguments.allSatisfy(\.isWhitespace) {
            guard let parsed = try? WireJSON.decode(JSONValue.self, from: arguments), let object = parsed.objectValue else {
                throw .invalidRequest(
                    "Invalid value for '\(path).function.arguments': Anthropic needs tool arguments to be a JSON object.",
                    param: "\(path).function.arguments"
                )
            }
            input = object
        }
        return ["type": "tool_use", "id": .string(id), "name": .string(name), "input": .object(input)]
    }

    private mutating func toolResult(_ message: ChatMessage, path: String) throws(GatewayError) -> JSONObject {
        guard let id = message.toolCallID else { throw .invalidBody(.missing("\(path).tool_call_id")) }
        var result: JSONObject = ["type": "tool_result", "tool_use_id": .string(id)]
        switch message.content {
        case .text(let text)?: result["content"] = .string(text)
        case .parts?:
            let blocks = try self.blocks(message.content, path: path, allowed: .text)
            result["content"] = .array(blocks.map(JSONValue.object))
        case nil: break
        }
        return result
    }
}
