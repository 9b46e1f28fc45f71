import NIOCore

/// Watches the first events of a provider's stream, before anything is relayed, for the one
/// that decides the attempt: the first content (text, a tool call, reasoning, or an end of
/// the answer) means the stream is the answer; an error event before it means the attempt
/// failed and the fallback chain may still move on invisibly. Only the first events are
/// parsed: once decided, the detector is dropped.
public struct StreamStartDetector: Sendable {
    /// The provider's stream format.
    public enum Wire: Sendable {
        case openAI
        case anthropic
    }

    public enum State: Sendable, Equatable {
        case waiting
        case content
        /// The provider reported this error before any content.
        case failed(GatewayError)
    }

    public private(set) var state = State.waiting
    private let wire: Wire
    private let provider: String
    private let model: String
    private var parser = SSEEventParser()

    public init(wire: Wire, provider: String, model: String) {
        self.wire = wire
        self.provider = provider
        self.model = model
    }

    /// Reads `chunk` (a copy: the relay consumes the original).
    public mutating func inspect(_ chunk: ByteBuffer) throws(GatewayError) {
        guard self.state == .waiting else { return }
        var input = chunk
        self.parser.append(&input)
        while self.state == .waiting, let event = try self.parser.next() {
            guard event.hasData else { continue }
            switch self.wire {
            case .openAI: self.inspectOpenAI(event)
            case .anthropic: self.inspectAnthropic(event)
            }
        }
    }

    private mutating func inspectOpenAI(_ event: SSEEvent) {
        if event.isDoneSentinel {
            self.state = .content  // an (empty) answer ended: the relay finishes it
            return
        }
        guard let chunk = try? WireJSON.decode(OpenAIChatWire.Body.self, from: event.data) else { return }
        if let error = chunk.error {
            self.state = .failed(OpenAIToAnthropicStream.map(error, provider: self.provider))
            return
        }
        for choice in chunk.choices ?? [] {
            let delta = choice.delta ?? choice.message
            let hasText = !(delta?.content?.text.isEmpty ?? true) || !(delta?.reasoning_content?.isEmpty ?? true)
                || !(delta?.refusal?.isEmpty ?? true) || !(delta?.tool_calls?.isEmpty ?? true)
            if hasText || choice.finish_reason != nil {
                self.state = .content
                return
            }
        }
    }

    private mutating func inspectAnthropic(_ event: SSEEvent) {
        switch event.name {
        case "content_block_start", "content_block_delta", "message_delta", "message_stop":
            self.state = .content
        case "error":
            let decoded = try? WireJSON.decode(AnthropicWire.Event.self, from: event.data)
            self.state = .failed(AnthropicProviderError.mapStreamError(
                type: decoded?.error?.type, message: decoded?.error?.message, provider: self.provider, model: self.model
            ))
        default:
            break
        }
    }
}
