import NIOCore

/// A provider's answer kept for exact repeats of its request: the text and how it ended,
/// in the vocabulary of the client format it was asked in (entries never cross formats),
/// with the usage and cost of the original call. Replayed whole or as a stream
/// (`SyntheticAnswer`), whichever the repeat asks for.
public struct CachedAnswer: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable {
        case openAI = "openai"
        case anthropic
    }

    public var format: Format
    public var text: String
    /// The model the original answer named.
    public var model: String
    /// `finish_reason` (OpenAI) or `stop_reason` (Anthropic).
    public var finishReason: String
    /// The Anthropic stop sequence that ended it, if one did.
    public var stopSequence: String?
    public var usage: TokenUsage
    /// What the original call cost: what each hit saves.
    public var cost: USD

    public init(format: Format, text: String, model: String, finishReason: String, stopSequence: String? = nil, usage: TokenUsage, cost: USD) {
        self.format = format
        self.text = text
        self.model = model
        self.finishReason = finishReason
        self.stopSequence = stopSequence
        self.usage = usage
        self.cost = cost
    }

    /// Bytes held in memory, for the cache's byte bound (strings plus fixed fields).
    public var byteSize: Int { self.text.utf8.count + self.model.utf8.count + (self.stopSequence?.utf8.count ?? 0) + 96 }

    /// The answer as the client's format writes it.
    public var synthetic: SyntheticAnswer {
        switch self.format {
        case .openAI:
            SyntheticAnswer(text: self.text, model: self.model, finishReason: self.finishReason, usage: self.usage)
        case .anthropic:
            SyntheticAnswer(
                text: self.text, model: self.model, finishReason: StopReason.openAI(fromAnthropic: self.finishReason) ?? "stop",
                anthropicStopReason: self.finishReason, stopSequence: self.stopSequence, usage: self.usage
            )
        }
    }

    // MARK: Stored form (the Redis L2)

    /// Compact JSON: `{"v":1,"f":"openai","t":…,"m":…,"r":…,"s":…,"u":[in,cached,write,out],"c":nanos}`.
    public func encoded() -> ByteBuffer {
        var out = ByteBuffer()
        out.writeStaticString(#"{"v":1,"f":"#)
        out.writeJSONQuoted(self.format.rawValue)
        out.writeStaticString(#","t":"#)
        out.writeJSONQuoted(self.text)
        out.writeStaticString(#","m":"#)
        out.writeJSONQuoted(self.model)
        out.writeStaticString(#","r":"#)
        out.writeJSONQuoted(self.finishReason)
        if let stopSequence {
            out.writeStaticString(#","s":"#)
            out.writeJSONQuoted(stopSequence)
        }
        let u = self.usage
        out.writeString(#","u":[\#(u.inputTokens),\#(u.cachedInputTokens),\#(u.cacheWriteInputTokens),\#(u.outputTokens)],"c":\#(self.cost.nanos)}"#)
        return out
    }

    /// The answer `encoded()` wrote; nil for anything else (another version, damage).
    public init?(encoded bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes), case .object(let object) = value, object["v"] == .int(1),
            let format = object["f"]?.stringValue.flatMap(Format.init(rawValue:)), let text = object["t"]?.stringValue,
            let model = object["m"]?.stringValue, let finish = object["r"]?.stringValue,
            let counts = object["u"]?.arrayValue?.compactMap(\.nonNegativeInt), counts.count == 4,
            case .int(let nanos) = object["c"], nanos >= 0
        else { return nil }
        self.init(
            format: format, text: text, model: model, finishReason: finish, stopSequence: object["s"]?.stringValue,
            usage: TokenUsage(inputTokens: counts[0], cachedInputTokens: counts[1], cacheWriteInputTokens: counts[2], outputTokens: counts[3]),
            cost: USD(nanos: nanos)
        )
    }
}

extension JSONValue {
    var nonNegativeInt: Int? {
        guard case .int(let value) = self, value >= 0, value <= Int64(Int32.max) else { return nil }
        return Int(value)
    }
}
