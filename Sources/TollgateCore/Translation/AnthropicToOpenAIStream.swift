import Foundation
import NIOCore

/// Translates an Anthropic Messages stream into OpenAI `chat.completion.chunk` events, for an
/// OpenAI-format client routed to an Anthropic provider.
///
/// `message_start` → the role chunk; text deltas → content chunks; a `tool_use` block → a
/// tool call chunk with id and name, its `input_json_delta`s → argument chunks; thinking
/// deltas → `reasoning_content` chunks (the name DeepSeek and vLLM use; OpenAI's SDKs keep
/// unknown delta fields); `message_delta` → the finish chunk; `message_stop` → the usage
/// chunk when the client asked for it, then `data: [DONE]`. An `error` event becomes an
/// OpenAI error chunk and ends the stream. Each event is translated as it arrives.
public struct AnthropicToOpenAIStream: ResponseStreamTranscoder {
    public private(set) var usage: TokenUsage?
    private let model: String
    private let includeUsage: Bool
    private let jsonResponseTool: String?
    private let provider: String
    private let created: Int
    private var parser = SSEEventParser()
    public var providerEvents: Int { self.parser.dataEvents }
    private var writer: OpenAIChunkWriter?
    /// What each Anthropic content block index became.
    private var blocks: [Int: Block] = [:]
    private var nextToolIndex = 0
    private var answeredWithJSONTool = false
    private var sentFinish = false
    private var phase = Phase.streaming

    private enum Block { case text, toolCall(Int), jsonAnswer, reasoning, ignored }
    private enum Phase { case streaming, ended, failed }

    /// - Parameters:
    ///   - model: the model name to report in every chunk.
    ///   - includeUsage: the client sent `stream_options.include_usage: true`.
    ///   - jsonResponseTool: from `TranslatedRequest.jsonResponseTool`; that tool's input
    ///     streams as message content.
    ///   - provider: names the provider in mid-stream error messages.
    public init(model: String, includeUsage: Bool, jsonResponseTool: String? = nil, provider: String = "anthropic", created: Int? = nil) {
        self.model = model
        self.includeUsage = includeUsage
        self.jsonResponseTool = jsonResponseTool
        self.provider = provider
        self.created = created ?? Int(Date().timeIntervalSince1970)
    }

    public mutating func consume(_ input: inout ByteBuffer, into output: inout ByteBuffer) throws(GatewayError) {
        self.parser.append(&input)
        while let event = try self.parser.next() { try self.handle(event, into: &output) }
    }

    public mutating func finish(into output: inout ByteBuffer) throws(GatewayError) {
        self.parser.finishInput()
        while let event = try self.parser.next() { try self.handle(event, into: &output) }
        if self.phase == .streaming { throw .upstreamInvalidStream("the stream ended before message_stop") }
    }

    public mutating func fail(_ error: GatewayError, into output: inout ByteBuffer) {
        guard self.phase == .streaming else { return }
        self.phase = .failed
        error.writeOpenAIStreamEvent(into: &output)
    }

    // MARK: - Events

    private mutating func handle(_ event: SSEEvent, into output: inout ByteBuffer) throws(GatewayError) {
        guard self.phase == .streaming, event.hasData else { return }
        let decoded: AnthropicWire.Event
        do {
            decoded = try WireJSON.decode(AnthropicWire.Event.self, from: event.data)
        } catch {
            throw .upstreamInvalidStream("an event is not valid JSON")
        }
        switch decoded.type {
        case "message_start":
            self.usage = decoded.message?.usage.map(TokenUsage.init(anthropic:))
            self.start(id: decoded.message?.id, into: &output)
        case "content_block_start":
            let writer = self.start(id: nil, into: &output)
            guard let index = decoded.index, let block = decoded.content_block else { return }
            self.blockStarted(block, index: index, writer: writer, into: &output)
        case "content_block_delta":
            let writer = self.start(id: nil, into: &output)
            guard let index = decoded.index, let delta = decoded.delta else { return }
            self.blockDelta(delta, index: index, writer: writer, into: &output)
        case "message_delta":
            let writer = self.start(id: nil, into: &output)
            if let delta = decoded.usage {
                var usage = self.usage ?? .zero
                usage.merge(anthropic: delta)
                self.usage = usage
            }
            var finish = StopReason.openAI(fromAnthropic: decoded.delta?.stop_reason) ?? "stop"
            if finish == "tool_calls" && self.answeredWithJSONTool && self.nextToolIndex == 0 { finish = "stop" }
            writer.writeFinish(finish, into: &output)
            self.sentFinish = true
        case "message_stop":
            let writer = self.start(id: nil, into: &output)
            if !self.sentFinish { writer.writeFinish("stop", into: &output) }
            if self.includeUsage { writer.writeUsage(self.usage ?? .zero, into: &output) }
            OpenAIChunkWriter.writeDone(into: &output)
            self.phase = .ended
        case "error":
            let error = AnthropicProviderError.mapStreamError(
                type: decoded.error?.type, message: decoded.error?.message, provider: self.provider, model: self.model
            )
            self.fail(error, into: &output)
        default:
            break  // ping, content_block_stop and event types added later carry nothing to relay
        }
    }

    /// The chunk writer, writing the role chunk first if `message_start` never came.
    @discardableResult
    private mutating func start(id: String?, into output: inout ByteBuffer) -> OpenAIChunkWriter {
        if let writer = self.writer { return writer }
        let writer = OpenAIChunkWriter(
            id: ResponseID.openAI(fromAnthropic: id), created: self.created, model: self.model, includeUsage: self.includeUsage
        )
        writer.writeRole(into: &output)
        self.writer = writer
        return writer
    }

    private mutating func blockStarted(_ block: AnthropicWire.Block, index: Int, writer: OpenAIChunkWriter, into output: inout ByteBuffer) {
        switch block.type {
        case "text":
            self.blocks[index] = .text
            if let text = block.text, !text.isEmpty { writer.writeContent(text, into: &output) }
        case "thinking":
            self.blocks[index] = .reasoning
            if let text = block.thinking, !text.isEmpty { writer.writeReasoning(text, into: &output) }
        case "tool_use" where block.name != nil && block.name == self.jsonResponseTool:
            self.blocks[index] = .jsonAnswer
            self.answeredWithJSONTool = true
        case "tool_use":
            let toolIndex = self.nextToolIndex
            self.nextToolIndex += 1
            self.blocks[index] = .toolCall(toolIndex)
            writer.writeToolCallStart(index: toolIndex, id: block.id ?? "call_" + ResponseID.random(), name: block.name ?? "", into: &output)
            // Anthropic starts tool input as `{}` and streams it; a non-empty start is whole.
            if let input = block.input, input != .object([:]) {
                writer.writeToolArguments(index: toolIndex, input.jsonText, into: &output)
            }
        default:
            self.blocks[index] = .ignored  // redacted thinking, server tool blocks
        }
    }

    private func blockDelta(_ delta: AnthropicWire.Delta, index: Int, writer: OpenAIChunkWriter, into output: inout ByteBuffer) {
        switch (self.blocks[index], delta.type) {
        case (.text?, "text_delta"):
            if let text = delta.text, !text.isEmpty { writer.writeContent(text, into: &output) }
        case (.toolCall(let toolIndex)?, "input_json_delta"):
            if let fragment = delta.partial_json, !fragment.isEmpty { writer.writeToolArguments(index: toolIndex, fragment, into: &output) }
        case (.jsonAnswer?, "input_json_delta"):
            if let fragment = delta.partial_json, !fragment.isEmpty { writer.writeContent(fragment, into: &output) }
        case (.reasoning?, "thinking_delta"):
            if let text = delta.thinking, !text.isEmpty { writer.writeReasoning(text, into: &output) }
        default:
            break  // signature and citation deltas have no OpenAI form
        }
    }
}
