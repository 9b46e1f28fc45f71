extension AnthropicMessagesRequest {
    /// This Anthropic Messages request as an OpenAI Chat Completions request, for an
    /// Anthropic-format client routed to an OpenAI-compatible or Azure OpenAI provider.
    ///
    /// `system` becomes the first message; `tool_result` blocks become `tool` messages in
    /// place; `cache_control`, thinking blocks in the history and document titles are hints
    /// with no OpenAI meaning, dropped and listed; `top_k`, `thinking` and server tools are
    /// refused unless `dropUnsupported`. A streamed request always asks for the usage chunk,
    /// which the gateway needs to price the answer.
    public func chatCompletionRequest(options: TranslationOptions = .init()) throws(GatewayError) -> TranslatedRequest<ChatCompletionRequest> {
        var translator = AnthropicToChatTranslator(log: TranslationLog(options: options, targetName: "an OpenAI-compatible provider"))
        return try translator.translate(self)
    }
}

struct AnthropicToChatTranslator {
    var log: TranslationLog

    /// Anthropic parameters with no OpenAI equivalent.
    static let unsupportedParameters = ["container", "mcp_servers", "context_management"]
    /// Anthropic parameters that only steer Anthropic's own service.
    static let hintParameters = ["service_tier"]

    mutating func translate(_ request: AnthropicMessagesRequest) throws(GatewayError) -> TranslatedRequest<ChatCompletionRequest> {
        var messages: [ChatMessage] = []
        if let system = request.system {
            messages.append(ChatMessage(role: .system, content: try self.systemContent(system)))
        }
        for (index, message) in request.messages.enumerated() {
            messages += try self.translate(message, path: "messages[\(index)]")
        }
        var result = ChatCompletionRequest(model: request.model, messages: messages, stream: request.stream)
        switch self.log.options.openAIMaxTokensField {
        case .maxTokens: result.maxTokens = request.maxTokens
        case .maxCompletionTokens: result.maxCompletionTokens = request.maxTokens
        }
        if request.isStreaming { result.streamOptions = ["include_usage": .bool(true)] }
        result.temperature = request.temperature
        result.topP = request.topP
        if request.topK != nil { try self.log.unsupported("top_k") }
        if let stops = request.stopSequences, !stops.isEmpty { result.stop = .array(stops.map(JSONValue.string)) }
        for (key, value) in request.metadata ?? [:] {
            if key == "user_id", let user = value.stringValue {
                result.user = user
            } else if !value.isNoOp {
                try self.log.unsupported("metadata.\(key)")
            }
        }
        if let thinking = request.thinking, thinking["type"]?.stringValue != "disabled" {
            try self.log.unsupported("thinking", "extended thinking has no Chat Completions equivalent")
        }
        var passthrough = request.additionalFields
        if let tools = request.tools, !tools.isEmpty {
            var translated: [JSONValue] = []
            for (index, tool) in tools.enumerated() {
                if let function = try self.tool(tool, path: "tools[\(index)]") { translated.append(.object(function)) }
            }
            if !translated.isEmpty {
                result.tools = translated
                try self.applyToolChoice(request.toolChoice, to: &result, extra: &passthrough)
            }
        } else if let choice = request.toolChoice, choice["type"]?.stringValue != "auto", choice["type"]?.stringValue != "none" {
            throw .invalidRequest("'tool_choice' requires 'tools'.", param: "tool_choice")
        }
        for name in Self.unsupportedParameters {
            guard let value = passthrough[name] else { continue }
            passthrough[name] = nil
            if !value.isNoOp { try self.log.unsupported(name) }
        }
        for name in Self.hintParameters where passthrough[name] != nil {
            passthrough[name] = nil
            self.log.hint(name)
        }
        result.additionalFields = passthrough
        return self.log.finish(result)
    }

    // MARK: - Tools

    private mutating func tool(_ tool: JSONObject, path: String) throws(GatewayError) -> JSONObject? {
        let type = tool["type"]?.stringValue ?? "custom"
        guard type == "custom" else {
            try self.log.unsupported(path, "Anthropic server tools ('\(type)') run on Anthropic's side only")
            return nil
        }
        guard let name = tool["name"]?.stringValue else { throw .invalidBody(.missing("\(path).name")) }
        var function: JSONObject = ["name": .string(name)]
        if let description = tool["description"] { function["description"] = description }
        function["parameters"] = tool["input_schema"] ?? .object(["type": "object", "properties": .object([:])])
        for (key, value) in tool where !["type", "name", "description", "input_schema"].contains(key) {
            if key == "cache_control" {
                self.log.hint("\(path).cache_control")
            } else if !value.isNoOp {
                try self.log.unsupported("\(path).\(key)")
            }
        }
        return ["type": "function", "function": .object(function)]
    }

    private mutating func applyToolChoice(_ choice: JSONObject?, to request: inout ChatCompletionRequest, extra: inout JSONObject) throws(GatewayError) {
        guard let choice else { return }
        switch choice["type"]?.stringValue {
        case "auto": request.toolChoice = "auto"
        case "any": request.toolChoice = "required"
        case "none": request.toolChoice = "none"
        case "tool":
            guard let name = choice["name"]?.stringValue else { throw .invalidBody(.missing("tool_choice.name")) }
            request.toolChoice = .object(["type": "function", "function": .object(["name": .string(name)])])
        default:
            throw .invalidRequest("Invalid value for 'tool_choice.type': expected 'auto', 'any', 'tool' or 'none'.", param: "tool_choice.type")
        }
        if choice["disable_parallel_tool_use"] == .bool(true), choice["type"]?.stringValue != "none" {
            extra["parallel_tool_calls"] = .bool(false)
        }
    }

    // MARK: - System

    private mutating func systemContent(_ system: AnthropicContent) throws(GatewayError) -> MessageContent {
        switch system {
        case .text(let text): return .text(text)
        case .blocks(let blocks):
            var parts: [JSONObject] = []
            for (index, block) in blocks.enumerated() {
                if let part = try self.textPart(block, path: "system[\(index)]") { parts.append(part) }
            }
            return Self.simplify(parts)
        }
    }

    /// A text block as an OpenAI text part.
    mutating func textPart(_ block: JSONObject, path: String) throws(GatewayError) -> JSONObject? {
        guard let text = block["text"]?.stringValue else { throw .invalidBody(.missing("\(path).text")) }
        for (key, value) in block where key != "type" && key != "text" {
            if key == "cache_control" || key == "citations" {
                self.log.hint("\(path).\(key)")
            } else if !value.isNoOp {
                try self.log.unsupported("\(path).\(key)")
            }
        }
        return ["type": "text", "text": .string(text)]
    }

    /// A lone text part is sent as a plain string, which every OpenAI-compatible server reads.
    static func simplify(_ parts: [JSONObject]) -> MessageContent {
        if parts.count == 1, let text = parts[0]["text"]?.stringValue, parts[0]["type"] == "text" { return .text(text) }
        return .parts(parts)
    }
}
