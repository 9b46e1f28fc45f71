import Foundation
import NIOCore

/// An assistant answer the gateway writes itself (a template fallback, a cached answer),
/// rendered in the client's format exactly as a provider would send it: a whole
/// `chat.completion` or Anthropic `message`, or the stream events of one. A template ends
/// with `finish_reason: stop` / `end_turn` and zero usage; a cached answer replays its own.
public struct SyntheticAnswer: Sendable {
    public var text: String
    /// The model the answer names.
    public var model: String
    /// OpenAI's `finish_reason` (`stop`, `length`); Anthropic answers get the matching
    /// `stop_reason` unless `anthropicStopReason` says it.
    public var finishReason: String
    /// Anthropic's own `stop_reason` (`stop_sequence` has no OpenAI twin), and the sequence.
    public var anthropicStopReason: String?
    public var stopSequence: String?
    public var usage: TokenUsage

    public init(
        text: String, model: String, finishReason: String = "stop", anthropicStopReason: String? = nil, stopSequence: String? = nil,
        usage: TokenUsage = .zero
    ) {
        self.text = text
        self.model = model
        self.finishReason = finishReason
        self.anthropicStopReason = anthropicStopReason
        self.stopSequence = stopSequence
        self.usage = usage
    }

    private var stopReason: String { self.anthropicStopReason ?? StopReason.anthropic(fromOpenAI: self.finishReason) ?? "end_turn" }

    /// A whole OpenAI `chat.completion`.
    public func openAIBody(id: String = Self.openAIID(), created: Int = Self.now()) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeStaticString(#"{"id":"#)
        body.writeJSONQuoted(id)
        body.writeStaticString(#","object":"chat.completion","created":"#)
        body.writeString(String(created))
        body.writeStaticString(#","model":"#)
        body.writeJSONQuoted(self.model)
        body.writeStaticString(#","choices":[{"index":0,"message":{"role":"assistant","content":"#)
        body.writeJSONQuoted(self.text)
        body.writeStaticString(#","refusal":null},"logprobs":null,"finish_reason":"#)
        body.writeJSONQuoted(self.finishReason)
        body.writeStaticString(#"}],"usage":"#)
        body.writeJSON(self.usage.openAIJSON)
        body.writeStaticString("}")
        return body
    }

    /// A whole Anthropic `message`.
    public func anthropicBody(id: String = Self.anthropicID()) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeStaticString(#"{"id":"#)
        body.writeJSONQuoted(id)
        body.writeStaticString(#","type":"message","role":"assistant","model":"#)
        body.writeJSONQuoted(self.model)
        body.writeStaticString(#","content":[{"type":"text","text":"#)
        body.writeJSONQuoted(self.text)
        body.writeStaticString(#"}],"stop_reason":"#)
        body.writeJSONQuoted(self.stopReason)
        body.writeStaticString(#","stop_sequence":"#)
        if let stopSequence { body.writeJSONQuoted(stopSequence) } else { body.writeStaticString("null") }
        body.writeStaticString(#","usage":"#)
        body.writeJSON(self.usage.anthropicJSON)
        body.writeStaticString("}")
        return body
    }

    /// OpenAI stream events: the role, the text, the finish, the usage chunk when the client
    /// asked for it, `[DONE]`.
    public func openAIStream(includeUsage: Bool, id: String = Self.openAIID(), created: Int = Self.now()) -> ByteBuffer {
        let writer = OpenAIChunkWriter(id: id, created: created, model: self.model, includeUsage: includeUsage)
        var output = ByteBuffer()
        writer.writeRole(into: &output)
        if !self.text.isEmpty { writer.writeContent(self.text, into: &output) }
        writer.writeFinish(self.finishReason, into: &output)
        if includeUsage { writer.writeUsage(self.usage, into: &output) }
        OpenAIChunkWriter.writeDone(into: &output)
        return output
    }

    /// Anthropic stream events, `message_start` to `message_stop`.
    public func anthropicStream(id: String = Self.anthropicID()) -> ByteBuffer {
        var output = ByteBuffer()
        var opening = self.usage
        opening.outputTokens = min(opening.outputTokens, 1)
        AnthropicEventWriter.writeMessageStart(id: id, model: self.model, usage: opening, into: &output)
        AnthropicEventWriter.writeTextBlockStart(index: 0, into: &output)
        if !self.text.isEmpty { AnthropicEventWriter.writeTextDelta(index: 0, self.text, into: &output) }
        AnthropicEventWriter.writeBlockStop(index: 0, into: &output)
        AnthropicEventWriter.writeMessageDelta(stopReason: self.stopReason, stopSequence: self.stopSequence, usage: self.usage, into: &output)
        AnthropicEventWriter.writeMessageStop(into: &output)
        return output
    }

    public static func openAIID() -> String { "chatcmpl-tollgate-" + Self.randomSuffix() }
    public static func anthropicID() -> String { "msg_tollgate_" + Self.randomSuffix() }
    public static func now() -> Int { Int(Date().timeIntervalSince1970) }

    private static func randomSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }
}
