import NIOCore

/// Relays an Anthropic stream to an Anthropic-format client unchanged, reading usage from
/// `message_start` (input and cache tokens) and `message_delta` (cumulative output tokens).
public struct AnthropicStreamPassthrough: ResponseStreamTranscoder {
    public private(set) var usage: TokenUsage?
    private var parser = SSEEventParser()
    public var providerEvents: Int { self.parser.dataEvents }
    private var ended = false

    public init() {}

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
        error.writeAnthropicStreamEvent(into: &output)
    }

    private mutating func relay(_ event: SSEEvent, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(event.raw)
        guard event.hasData else { return }
        switch event.name {
        case "message_start", "message_delta", "message_stop", "error", nil: break
        default: return  // content events carry no usage: not worth decoding
        }
        guard let decoded = try? WireJSON.decode(AnthropicWire.Event.self, from: event.data) else { return }
        switch decoded.type {
        case "message_start":
            self.usage = decoded.message?.usage.map(TokenUsage.init(anthropic:)) ?? self.usage
        case "message_delta":
            if let delta = decoded.usage {
                var usage = self.usage ?? .zero
                usage.merge(anthropic: delta)
                self.usage = usage
            }
        case "message_stop", "error":
            self.ended = true
        default: break
        }
    }
}
