extension ChatCompletionRequest {
    /// This OpenAI Chat Completions request as an Anthropic Messages request, for an
    /// OpenAI-format client routed to an Anthropic provider.
    ///
    /// Decisions (README, "Formats and translation"): system and developer messages anywhere become
    /// `system`; `temperature` above Anthropic's maximum of 1 is clamped (and reported);
    /// `response_format` `json_schema` becomes a forced tool when the request has no tools of
    /// its own, otherwise a system instruction, as `json_object` always is; OpenAI parameters
    /// with no Anthropic equivalent are refused unless `dropUnsupported`; fields the gateway
    /// does not know are passed through for the provider to judge.
    public func anthropicRequest(options: TranslationOptions = .init()) throws(GatewayError) -> TranslatedRequest<AnthropicMessagesRequest> {
        var translator = ChatToAnthropicTranslator(log: TranslationLog(options: options, targetName: "Anthropic"))
        return try translator.translate(self)
    }
}

struct ChatToAnthropicTranslator {
    var log: TranslationLog

    /// OpenAI parameters with no Anthropic equivalent: refused unless set to a no-op value.
    static let unsupportedParameters = [
        "logprobs", "top_logprobs", "presence_penalty", "frequency_penalty", "seed", "logit_bias", "audio",
        "prediction", "functions", "function_call", "web_search_options", "reasoning_effort", "verbosity", "store",
    ]
    /// OpenAI parameters that only steer OpenAI's own service (caching, storage, tiers).
    static let hintParameters = ["service_tier", "prompt_cache_key", "metadata"]

    mutating func translate(_ request: ChatCompletionRequest) throws(GatewayError) -> TranslatedRequest<AnthropicMessagesRequest> {
        var passthrough = request.additionalFields
        try self.checkParameters(request, extra: &passthrough)

        var conversation = try self.translateMessages(request.messages)
        let maxTokens = request.outputTokenLimit ?? self.log.options.defaultMaxTokens
        if request.outputTokenLimit == nil {
            self.log.adjust("max_tokens (absent; Anthropic requires it, sent \(maxTokens))")
        }
        var result = AnthropicMessagesRequest(model: request.model, messages: conversation.messages, maxTokens: maxTokens)
        result.stream = request.stream
        if let temperature = request.temperature {
            if temperature > 1 {
                self.log.adjust("temperature (\(temperature) clamped to 1, Anthropic's maximum)")
            }
            result.temperature = min(temperature, 1)
        }
        result.topP = request.topP
        result.stopSequences = try Self.stopSequences(request.stop)
        if let user = request.user ?? passthrough["safety_identifier"]?.stringValue {
            result.metadata = ["user_id": .string(user)]
        }
        passthrough["safety_identifier"] = nil

        let parallel = passthrough["parallel_tool_calls"]
        passthrough["parallel_tool_calls"] = nil
        if let tools = request.tools, !tools.isEmpty {
            var translated: [JSONObject] = []
            for (index, tool) in tools.enumerated() {
                if let tool = try self.tool(tool, path: "tools[\(index)]") { translated.append(tool) }
            }
            result.tools = translated.isEmpty ? nil : translated
            result.toolChoice = translated.isEmpty ? nil : try self.toolChoice(request.toolChoice)
            if parallel == .bool(false), result.tools != nil, result.toolChoice?["type"]?.stringValue != "none" {
                var choice = result.toolChoice ?? ["type": "auto"]
                choice["disable_parallel_tool_use"] = .bool(true)
                result.toolChoice = choice
            }
        }
        let jsonTool = try self.applyResponseFormat(request.responseFormat, to: &result, system: &conversation.system)
        result.system = Self.simplify(conversation.system)
        result.additionalFields = passthrough
        return self.log.finish(result, jsonResponseTool: jsonTool)
    }

    // MARK: - Parameters

    private mutating func checkParameters(_ request: ChatCompletionRequest, extra: inout JSONObject) throws(GatewayError) {
        if let n = request.n, n > 1 { try self.log.unsupported("n", "Anthropic returns one choice per request") }
        for name in Self.unsupportedParameters {
            guard let value = extra[name] else { continue }
            extra[name] = nil
            if !value.isNoOp { try self.log.unsupported(name) }
        }
        if let modalities = extra["modalities"] {
            extra["modalities"] = nil
            if modalities != .array([.string("text")]), !modalities.isNoOp { try self.log.unsupported("modalities") }
        }
        for name in Self.hintParameters {
            guard let value = extra[name] else { continue }
            extra[name] = nil
            if !value.isNoOp { self.log.hint(name) }
        }
        // `stream_options` only shapes the stream the gateway renders for the client.
    }

    static func stopSequences(_ stop: JSONValue?) throws(GatewayError) -> [String]? {
        switch stop {
        case nil, .null?: return nil
        case .string(let single)?: return [single]
        case .array(let values)?:
            var sequences: [String] = []
            for value in values {
                guard let text = value.stringValue else {
                    throw .invalidRequest("Invalid type for 'stop': expected a string or an array of strings.", param: "stop")
                }
                sequences.append(text)
            }
            return sequences.isEmpty ? nil : sequences
        default:
            throw .invalidRequest("Invalid type for 'stop': expected a string or an array of strings.", param: "stop")
        }
    }

    // MARK: - Tools

    private mutating func tool(_ tool: JSONValue, path: String) throws(GatewayError) -> JSONObject? {
        guard let object = tool.objectValue else {
            throw .invalidRequest("Invalid type for '\(path)': expected an object.", param: path)
        }
        let type = object["type"]?.stringValue ?? "function"
        guard type == "function" else {
            try self.log.unsupported(path, "tools of type '\(type)' have no Anthropic equivalent")
            return nil
        }
        guard let function = object["function"]?.objectValue, let name = function["name"]?.stringValue else {
            throw .invalidBody(.missing("\(path).function.name"))
        }
        var result: JSONObject = ["name": .string(name)]
        if let description = function["description"] { result["description"] = description }
        result["input_schema"] = function["parameters"] ?? .object(["type": "object", "properties": .object([:])])
        if let strict = function["strict"], !strict.isNoOp { self.log.hint("\(path).function.strict") }
        if let cacheControl = object["cache_control"] { result["cache_control"] = cacheControl }
        return result
    }

    private func toolChoice(_ choice: JSONValue?) throws(GatewayError) -> JSONObject? {
        switch choice {
        case nil, .null?: return nil
        case .string("auto")?: return ["type": "auto"]
        case .string("none")?: return ["type": "none"]
        case .string("required")?: return ["type": "any"]
        case .object(let object)?:
            if object["type"]?.stringValue == "function", let name = object["function"]?["name"]?.stringValue {
                return ["type": "tool", "name": .string(name)]
            }
        default: break
        }
        throw .invalidRequest(
            "Invalid value for 'tool_choice': expected 'auto', 'none', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}.",
            param: "tool_choice"
        )
    }

    // MARK: - response_format

    /// `json_schema` without tools of the app's own becomes a forced tool whose input is the
    /// answer (Anthropic then guarantees a JSON object of that schema); otherwise, and for
    /// `json_object`, an instruction at the end of `system`.
    private mutating func applyResponseFormat(
        _ format: JSONValue?, to request: inout AnthropicMessagesRequest, system: inout [JSONObject]
    ) throws(GatewayError) -> String? {
        guard let format, format != .null else { return nil }
        switch format["type"]?.stringValue {
        case "text": return nil
        case "json_object":
            system.append(Self.textBlock("Respond with a single valid JSON object and nothing else: no prose and no code fences."))
            self.log.adjust("response_format (json_object expressed as a system instruction)")
            return nil
        case "json_schema":
            guard let spec = format["json_schema"]?.objectValue, let schema = spec["schema"] else {
                throw .invalidBody(.missing("response_format.json_schema.schema"))
            }
            let name = spec["name"]?.stringValue ?? "json_response"
            let hasTools = !(request.tools ?? []).isEmpty
            if !hasTools, schema["type"]?.stringValue == "object" {
                request.tools = [[
                    "name": .string(name),
                    "description": spec["description"] ?? .string("Give the answer as a JSON object matching this schema."),
                    "input_schema": schema,
                ]]
                request.toolChoice = ["type": "tool", "name": .string(name)]
                self.log.adjust("response_format (json_schema '\(name)' expressed as a forced tool)")
                return name
            }
            system.append(Self.textBlock(
                "Respond with a single JSON value that conforms to this JSON schema, and nothing else (no prose, no code fences): "
                    + schema.jsonText
            ))
            self.log.adjust("response_format (json_schema '\(name)' expressed as a system instruction)")
            return nil
        default:
            throw .invalidRequest(
                "Invalid value for 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
                param: "response_format.type"
            )
        }
    }

    // MARK: - Helpers

    static func textBlock(_ text: String) -> JSONObject {
        ["type": "text", "text": .string(text)]
    }

    /// One plain text block reads better (and caches the same) as a string.
    static func simplify(_ blocks: [JSONObject]) -> AnthropicContent? {
        if blocks.isEmpty { return nil }
        if blocks.count == 1, blocks[0].count == 2, let text = blocks[0]["text"]?.stringValue, blocks[0]["type"] == "text" {
            return .text(text)
        }
        return .blocks(blocks)
    }
}
