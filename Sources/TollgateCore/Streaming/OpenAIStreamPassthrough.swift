import NIOCore

/// Relays an OpenAI-format stream to an OpenAI-format client unchanged, reading usage from it.
///
/// The gateway always asks the provider for `stream_options.include_usage` to price the
/// request. When the client did not ask for it, the one extra chunk that causes (usage with
/// `choices: []`) is removed and nothing else is touched. (The `"usage": null` OpenAI adds to
/// the other chunks stays: the SDKs read it as absent, and rewriting every chunk would cost
/// more than it is worth.)
public struct OpenAIStreamPassthrough: ResponseStreamTranscoder {
    public let clientWantsUsage: Bool
    public private(set) var usage: TokenUsage?
    private var parser = SSEEventParser()
    public var providerEvents: Int { self.parser.dataEvents }
    private var ended = false

    public init(clientWantsUsage: Bool) {
        self.clientWantsUsage = clientWantsUsage
    }

    public mutating func consume(_ input: inout ByteBuffer, into output: inout ByteBuffer) throws(GatewayError) {
        self.parser.append(&input)
        while let event = try self.parser.next() { self.relay(event, into: &output) }
    }

    public mutating func finish(into output: inout ByteBuffer) throws(GatewayError) {
        self.parser.finishInput()
        while let event = try self.parser.next() { self.relay(event, into: &output) }
    }

    public mutating func fail(_ error: GatewayError, into output: inout ByteBuffer) {
        guard !self.ended else { return }
        self.ended = true
        error.writeOpenAIStreamEvent(into: &output)
    }

    private mutating func relay(_ event: SSEEvent, into output: inout ByteBuffer) {
        if event.isDoneSentinel {
            self.ended = true
        } else if event.hasData, event.data.containsJSONObjectKey("usage"),
            let chunk = try? WireJSON.decode(OpenAIChatWire.Body.self, from: event.data), let usage = chunk.usage
        {
            self.usage = TokenUsage(usage)
            if !self.clientWantsUsage && (chunk.choices ?? []).isEmpty { return }
        }
        output.writeImmutableBuffer(event.raw)
    }
}

extension ByteBuffer {
    /// True when the JSON text holds `"key":` followed by an object at any depth. A quote
    /// inside a JSON string is escaped, so an unescaped `"key":` can only be a key: a cheap
    /// test that spares decoding every chunk of a stream to find the one with usage.
    func containsJSONObjectKey(_ key: StaticString) -> Bool {
        self.withUnsafeReadableBytes { bytes in
            let needle = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            let count = bytes.count
            var index = 0
            while index < count {
                guard bytes[index] == UInt8(ascii: "\""), index + needle.count + 1 < count else { index += 1; continue }
                var matches = true
                for offset in 0..<needle.count where bytes[index + 1 + offset] != needle[offset] {
                    matches = false
                    break
                }
                var cursor = index + 1 + needle.count
                guard matches, bytes[cursor] == UInt8(ascii: "\"") else { index += 1; continue }
                cursor += 1
                while cursor < count, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
                guard cursor < count, bytes[cursor] == UInt8(ascii: ":") else { index += 1; continue }
                cursor += 1
                while cursor < count, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
                if cursor < count, bytes[cursor] == UInt8(ascii: "{") { return true }
                index = cursor
            }
            return false
        }
    }
}
