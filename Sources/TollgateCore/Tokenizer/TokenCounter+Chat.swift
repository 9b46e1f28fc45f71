extension TokenCounter {
    // MARK: Chat requests

    /// Tokens OpenAI adds around each message (`<|start|>`, role, `<|message|>`...), as the
    /// OpenAI cookbook counts them for current models.
    public static let tokensPerMessage = 3
    /// Tokens a message's `name` adds besides its text.
    public static let tokensPerName = 1
    /// Tokens that prime the assistant's reply (`<|start|>assistant<|message|>`).
    public static let replyPrimingTokens = 3
    /// An image part with `detail: low`: a flat 85 tokens.
    public static let lowDetailImageTokens = 85
    /// Any other image part. The real cost depends on the image's size, which the gateway does
    /// not download: this is a 1024×1024 image at high detail (85 + 4 tiles × 170), the common
    /// case, so that budget reservations rarely come out short.
    public static let imageTokens = 765

    /// The prompt tokens of a Chat Completions request, counted as the OpenAI cookbook does:
    /// per message ``tokensPerMessage`` plus its role, content text parts and `name` (plus
    /// ``tokensPerName``), then ``replyPrimingTokens``. Tool calls, tool call ids and tool
    /// definitions count as their compact JSON text (OpenAI renders tools in its own format, so
    /// this is close, not exact). Image parts count ``lowDetailImageTokens`` or ``imageTokens``;
    /// other non-text parts (audio, files) are not counted.
    public func count(_ request: ChatCompletionRequest) -> Int {
        var total = Self.replyPrimingTokens
        for message in request.messages { total += self.count(message) }
        for tool in request.tools ?? [] { total += self.count(JSONText.compact(tool)) }
        return total
    }

    /// One message's tokens, framing included, counted as for a whole request.
    public func count(_ message: ChatMessage) -> Int {
        Self.count(message, text: self.count)
    }

    /// One message's tokens with any text counter (an estimate where no tokenizer is loaded).
    public static func count(_ message: ChatMessage, text count: (String) -> Int) -> Int {
        var total = Self.tokensPerMessage + count(message.role.rawValue)
        if let name = message.name { total += Self.tokensPerName + count(name) }
        switch message.content {
        case .text(let text):
            total += count(text)
        case .parts(let parts):
            for part in parts {
                switch part["type"]?.stringValue {
                case "text":
                    total += part["text"]?.stringValue.map(count) ?? 0
                case "refusal":
                    total += part["refusal"]?.stringValue.map(count) ?? 0
                case "image_url":
                    total += part["image_url"]?["detail"]?.stringValue == "low" ? Self.lowDetailImageTokens : Self.imageTokens
                default:
                    break
                }
            }
        case nil:
            break
        }
        for call in message.toolCalls ?? [] { total += count(JSONText.compact(call)) }
        if let id = message.toolCallID { total += count(id) }
        return total
    }
}

/// JSON text for counting: compact, keys sorted (decoded objects do not keep their order, and
/// the same request must count the same), non-ASCII left as is: what Python's
/// `json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)` writes.
enum JSONText {
    static func compact(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    private static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let bool): out += bool ? "true" : "false"
        case .int(let int): out += String(int)
        case .double(let double): out += double.isFinite ? "\(double)" : "null"
        case .string(let string): writeString(string, to: &out)
        case .array(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                write(element, to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                writeString(key, to: &out)
                out += ":"
                write(object[key]!, to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
