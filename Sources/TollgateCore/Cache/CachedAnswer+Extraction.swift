import NIOCore

/// Which answers may be kept: complete ones of plain text, a single choice, ended by their
/// own stop or length limit. Tool calls, refusals and content-filter stops, several choices,
/// errors and streams without their end are never stored.
extension CachedAnswer {
    static let openAIEndings: Set<String> = ["stop", "length"]
    static let anthropicEndings: Set<String> = ["end_turn", "max_tokens", "stop_sequence"]

    /// A whole answer as the client received it, or nil when it may not be stored.
    public static func fromWholeBody(_ body: ByteBuffer, format: Format, usage: TokenUsage, cost: USD) -> CachedAnswer? {
        guard let value = body.withUnsafeReadableBytes({ try? JSONParser.parse($0) }), case .object(let answer) = value,
            let model = answer["model"]?.stringValue
        else { return nil }
        switch format {
        case .openAI:
            guard let choices = answer["choices"]?.arrayValue, choices.count == 1, let message = choices[0]["message"],
                let text = message["content"]?.stringValue, Self.isAbsent(message["tool_calls"]), Self.isAbsent(message["refusal"]),
                Self.isAbsent(message["function_call"]), let finish = choices[0]["finish_reason"]?.stringValue, Self.openAIEndings.contains(finish)
            else { return nil }
            return CachedAnswer(format: format, text: text, model: model, finishReason: finish, usage: usage, cost: cost)
        case .anthropic:
            guard let blocks = answer["content"]?.arrayValue, blocks.count == 1, blocks[0]["type"]?.stringValue == "text",
                let text = blocks[0]["text"]?.stringValue, let stop = answer["stop_reason"]?.stringValue, Self.anthropicEndings.contains(stop)
            else { return nil }
            return CachedAnswer(
                format: format, text: text, model: model, finishReason: stop, stopSequence: answer["stop_sequence"]?.stringValue,
                usage: usage, cost: cost
            )
        }
    }

    /// A streamed answer from the events the client received, or nil when it may not be
    /// stored (incomplete, an error event, tool calls, several choices or blocks...).
    public static func fromStream(_ transcript: ByteBuffer, format: Format, usage: TokenUsage, cost: USD) -> CachedAnswer? {
        var parser = SSEEventParser()
        var input = transcript
        parser.append(&input)
        parser.finishInput()
        var text = ""
        var model: String?
        var finish: String?
        var stopSequence: String?
        var ended = false
        var blocks = 0
        while let event = try? parser.next() {
            guard event.hasData else { continue }
            if format == .openAI, event.isDoneSentinel {
                ended = true
                continue
            }
            guard let value = event.data.withUnsafeReadableBytes({ try? JSONParser.parse($0) }), case .object(let data) = value else {
                return nil
            }
            switch format {
            case .openAI:
                guard Self.isAbsent(data["error"]) else { return nil }
                model = model ?? data["model"]?.stringValue
                for choice in data["choices"]?.arrayValue ?? [] {
                    guard choice["index"] == .int(0) || choice["index"] == nil else { return nil }
                    let delta = choice["delta"]
                    guard Self.isAbsent(delta?["tool_calls"]), Self.isAbsent(delta?["refusal"]), Self.isAbsent(delta?["function_call"]) else {
                        return nil
                    }
                    if let content = delta?["content"]?.stringValue { text += content }
                    if let reason = choice["finish_reason"]?.stringValue { finish = reason }
                }
            case .anthropic:
                switch data["type"]?.stringValue {
                case "message_start": model = data["message"]?["model"]?.stringValue
                case "content_block_start":
                    blocks += 1
                    guard blocks == 1, data["content_block"]?["type"]?.stringValue == "text" else { return nil }
                    text += data["content_block"]?["text"]?.stringValue ?? ""
                case "content_block_delta":
                    guard data["delta"]?["type"]?.stringValue == "text_delta", let delta = data["delta"]?["text"]?.stringValue else { return nil }
                    text += delta
                case "message_delta":
                    finish = data["delta"]?["stop_reason"]?.stringValue ?? finish
                    stopSequence = data["delta"]?["stop_sequence"]?.stringValue ?? stopSequence
                case "message_stop": ended = true
                case "error": return nil
                default: break
                }
            }
        }
        let endings = format == .openAI ? Self.openAIEndings : Self.anthropicEndings
        guard ended, let model, let finish, endings.contains(finish) else { return nil }
        return CachedAnswer(format: format, text: text, model: model, finishReason: finish, stopSequence: stopSequence, usage: usage, cost: cost)
    }

    /// Missing, null, or an empty list.
    private static func isAbsent(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?: true
        case .array(let elements)?: elements.isEmpty
        default: false
        }
    }
}
