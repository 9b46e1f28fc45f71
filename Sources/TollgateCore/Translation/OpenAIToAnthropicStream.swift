import NIOCore

/// Translates an OpenAI `chat.completion.chunk` stream into Anthropic Messages events, for an
/// Anthropic-format client routed to an OpenAI-compatible provider.
///
/// The first chunk → `message_start`; content → a text block; each tool call (by its
/// `tool_calls` index) → a `tool_use` block whose arguments stream as `input_json_delta`;
/// `finish_reason` closes the open block. `message_delta` (stop reason and usage) and
/// `message_stop` wait for the usage chunk OpenAI sends after the finish chunk, or for
/// `[DONE]`, since Anthropic clients read the final usage there. OpenAI only reports usage at
/// the end, so `message_start` carries zero input tokens and `message_delta` the real counts.
public struct OpenAIToAnthropicStream: ResponseStreamTranscoder {
    public private(set) var usage: TokenUsage?
    private let model: String
    private let provider: String
    private var parser = SSEEventParser()
    public var providerEvents: Int { self.parser.dataEvents }
    private var started = false
    private var nextBlockIndex = 0
    private var openBlock: OpenBlock?
    /// OpenAI tool call indexes whose blocks were opened already.
    private var startedTools: Set<Int> = []
    private var stopReason: String?
    private var refused = false
    private var phase = Phase.streaming

    private enum OpenBlock: Equatable {
        case text(block: Int)
        case tool(call: Int, block: Int)
    }

    private enum Phase { case streaming, ended, failed }

    /// - Parameters:
    ///   - model: the model name to report in `message_start`.
    ///   - provider: names the provider in mid-stream error messages.
    public init(model: String, provider: String = "openai") {
        self.model = model
        self.provider = provider
    }

    public mutating func consume(_ input: inout ByteBuffer, into output: inout ByteBuffer) throws(GatewayError) {
        self.parser.append(&input)
        while let event = try self.parser.next() { try self.handle(event, into: &output) }
    }

    public mutating func finish(into output: inout ByteBuffer) throws(GatewayError) {
        self.parser.finishInput()
        while let event = try self.parser.next() { try self.handle(event, into: &output) }
        guard self.phase == .streaming else { return }
        // Some compatible servers end without `[DONE]`: a stream that finished is complete.
        guard self.stopReason != nil else { throw .upstreamInvalidStream("the stream ended before a finish_reason") }
        self.closeMessage(into: &output)
    }

    public mutating func fail(_ error: GatewayError, into output: inout ByteBuffer) {
        guard self.phase == .streaming else { return }
        self.phase = .failed
        error.writeAnthropicStreamEvent(into: &output)
    }

    // MARK: - Events

    private mutating func handle(_ event: SSEEvent, into output: inout ByteBuffer) throws(GatewayError) {
        guard self.phase == .streaming, event.hasData else { return }
        if event.isDoneSentinel {
            self.start(id: nil, into: &output)
            self.closeMessage(into: &output)
            return
        }
        let chunk: OpenAIChatWire.Body
        do {
            chunk = try WireJSON.decode(OpenAIChatWire.Body.self, from: event.data)
        } catch {
            throw .upstreamInvalidStream("a chunk is not valid JSON")
        }
        if let error = chunk.error {
            self.fail(Self.map(error, provider: self.provider), into: &output)
            return
        }
        if let usage = chunk.usage { self.usage = TokenUsage(usage) }
        self.start(id: chunk.id, into: &output)
        for choice in chunk.choices ?? [] where (choice.index ?? 0) == 0 {
            if let delta = choice.delta { try self.apply(delta, into: &output) }
            if let finish = choice.finish_reason {
                self.closeOpenBlock(into: &output)
                self.stopReason = self.refused ? "refusal" : StopReason.anthropic(fromOpenAI: finish)
            }
        }
        // Usage after (or with) the finish: nothing more will change what the client sees.
        if self.stopReason != nil && chunk.usage != nil { self.closeMessage(into: &output) }
    }

    private mutating func apply(_ delta: OpenAIChatWire.Message, into output: inout ByteBuffer) throws(GatewayError) {
        if let text = delta.content?.text, !text.isEmpty { self.writeText(text, into: &output) }
        if let refusal = delta.refusal, !refusal.isEmpty {
            self.refused = true
            self.writeText(refusal, into: &output)
        }
        for call in delta.tool_calls ?? [] {
            let callIndex = call.index ?? 0
            if case .tool(callIndex, let block)? = self.openBlock {
                if let fragment = call.function?.arguments, !fragment.isEmpty {
                    AnthropicEventWriter.writeInputJSONDelta(index: block, fragment, into: &output)
                }
                continue
            }
            guard !self.startedTools.contains(callIndex) else {
                throw .upstreamInvalidStream("tool call \(callIndex) continued after another one started")
            }
            self.closeOpenBlock(into: &output)
            let block = self.nextBlockIndex
            self.nextBlockIndex += 1
            self.startedTools.insert(callIndex)
            self.openBlock = .tool(call: callIndex, block: block)
            AnthropicEventWriter.writeToolUseBlockStart(
                index: block, id: call.id ?? "toolu_" + ResponseID.random(), name: call.function?.name ?? "", into: &output
            )
            if let fragment = call.function?.arguments, !fragment.isEmpty {
                AnthropicEventWriter.writeInputJSONDelta(index: block, fragment, into: &output)
            }
        }
        // `reasoning_content` is left out: an Anthropic client only gets thinking it asked for.
    }

    private mutating func writeText(_ text: String, into output: inout ByteBuffer) {
        let block: Int
        if case .text(let open)? = self.openBlock {
            block = open
        } else {
            self.closeOpenBlock(into: &output)
            block = self.nextBlockIndex
            self.nextBlockIndex += 1
            self.openBlock = .text(block: block)
            AnthropicEventWriter.writeTextBlockStart(index: block, into: &output)
        }
        AnthropicEventWriter.writeTextDelta(index: block, text, into: &output)
    }

    private mutating func start(id: String?, into output: inout ByteBuffer) {
        guard !self.started else { return }
        self.started = true
        AnthropicEventWriter.writeMessageStart(
            id: ResponseID.anthropic(fromOpenAI: id), model: self.model, usage: self.usage ?? .zero, into: &output
        )
    }

    private mutating func closeOpenBlock(into output: inout ByteBuffer) {
        switch self.openBlock {
        case .text(let block)?, .tool(_, let block)?: AnthropicEventWriter.writeBlockStop(index: block, into: &output)
        case nil: break
        }
        self.openBlock = nil
    }

    private mutating func closeMessage(into output: inout ByteBuffer) {
        self.closeOpenBlock(into: &output)
        AnthropicEventWriter.writeMessageDelta(stopReason: self.stopReason ?? "end_turn", usage: self.usage ?? .zero, into: &output)
        AnthropicEventWriter.writeMessageStop(into: &output)
        self.phase = .ended
    }

    /// An OpenAI error chunk (`{"error":{…}}` mid-stream) as a `GatewayError`.
    static func map(_ error: OpenAIChatWire.ErrorPayload, provider: String) -> GatewayError {
        let code = error.code?.text
        let status: Int
        switch (error.type, code) {
        case ("rate_limit_error"?, _), (_, "rate_limit_exceeded"?): status = 429
        case ("invalid_request_error"?, _): status = 400
        default: status = 502
        }
        return GatewayError(
            status: status, type: error.type ?? "upstream_error", code: code,
            message: error.message ?? "The provider '\(provider)' reported an error during the stream."
        )
    }
}
