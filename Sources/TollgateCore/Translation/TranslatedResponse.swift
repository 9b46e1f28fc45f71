import Foundation
import NIOCore

/// A provider's non-streamed answer rewritten in the client's format, with the usage read
/// from it on the way (so the gateway parses the body once).
public struct TranslatedResponse: Sendable {
    public var body: ByteBuffer
    public var usage: TokenUsage?

    public init(body: ByteBuffer, usage: TokenUsage?) {
        self.body = body
        self.usage = usage
    }
}

/// Non-streamed answers, both ways.
public enum ResponseTranslation {
    /// An Anthropic `message` as an OpenAI `chat.completion`.
    ///
    /// - Parameters:
    ///   - model: the model name to report (the one the client asked for).
    ///   - jsonResponseTool: from `TranslatedRequest.jsonResponseTool`: that tool's input is
    ///     the JSON answer and becomes the message content, finishing with `stop`.
    ///   - created: the `created` timestamp; now unless given.
    public static func chatCompletion(
        fromAnthropic body: ByteBuffer, model: String, jsonResponseTool: String? = nil, created: Int? = nil
    ) throws(GatewayError) -> TranslatedResponse {
        let message: AnthropicWire.Message
        do {
            message = try WireJSON.decode(AnthropicWire.Message.self, from: body)
        } catch {
            throw .upstreamInvalidStream("the answer is not an Anthropic message")
        }
        var text = ""
        var reasoning = ""
        var calls: [JSONValue] = []
        var answeredWithJSONTool = false
        for block in message.content ?? [] {
            switch block.type {
            case "text": text += block.text ?? ""
            case "thinking": reasoning += block.thinking ?? ""
            case "tool_use" where block.name != nil && block.name == jsonResponseTool:
                text += (block.input ?? .object([:])).jsonText
                answeredWithJSONTool = true
            case "tool_use":
                calls.append(.object([
                    "id": .string(block.id ?? "call_" + ResponseID.random()), "type": "function",
                    "function": .object(["name": .string(block.name ?? ""), "arguments": .string((block.input ?? .object([:])).jsonText)]),
                ]))
            default: break  // redacted thinking, server tool blocks: nothing an OpenAI client can show
            }
        }
        var finish = StopReason.openAI(fromAnthropic: message.stop_reason)
        if answeredWithJSONTool && finish == "tool_calls" && calls.isEmpty { finish = "stop" }

        var reply: JSONObject = ["role": "assistant", "content": text.isEmpty && !calls.isEmpty ? .null : .string(text), "refusal": .null]
        if !reasoning.isEmpty { reply["reasoning_content"] = .string(reasoning) }
        if !calls.isEmpty { reply["tool_calls"] = .array(calls) }
        let usage = message.usage.map(TokenUsage.init(anthropic:))
        var object: JSONObject = [
            "id": .string(ResponseID.openAI(fromAnthropic: message.id)),
            "object": "chat.completion",
            "created": .int(Int64(created ?? Int(Date().timeIntervalSince1970))),
            "model": .string(model),
            "choices": .array([.object([
                "index": .int(0), "message": .object(reply), "logprobs": .null, "finish_reason": finish.map(JSONValue.string) ?? .null,
            ])]),
        ]
        if let usage { object["usage"] = usage.openAIJSON }
        var out = ByteBuffer()
        out.writeJSON(object)
        return TranslatedResponse(body: out, usage: usage)
    }

    /// An OpenAI `chat.completion` as an Anthropic `message`.
    ///
    /// Reasoning text some compatible providers add (`reasoning_content`) is left out: an
    /// Anthropic client only gets thinking blocks when it asked for thinking, which cannot be
    /// translated to OpenAI. Tool arguments that are not a JSON object (a model's mistake)
    /// are kept as `{"_raw_arguments": "<text>"}` rather than lost.
    public static func anthropicMessage(fromChatCompletion body: ByteBuffer, model: String) throws(GatewayError) -> TranslatedResponse {
        let completion: OpenAIChatWire.Body
        do {
            completion = try WireJSON.decode(OpenAIChatWire.Body.self, from: body)
        } catch {
            throw .upstreamInvalidStream("the answer is not a chat completion")
        }
        guard let choice = completion.choices?.first, let message = choice.message else {
            throw .upstreamInvalidStream("the chat completion has no choices")
        }
        var content: [JSONValue] = []
        if let text = message.content?.text, !text.isEmpty { content.append(.object(["type": "text", "text": .string(text)])) }
        if let refusal = message.refusal, !refusal.isEmpty { content.append(.object(["type": "text", "text": .string(refusal)])) }
        for call in message.tool_calls ?? [] {
            content.append(.object([
                "type": "tool_use", "id": .string(call.id ?? "toolu_" + ResponseID.random()),
                "name": .string(call.function?.name ?? ""), "input": .object(Self.toolInput(call.function?.arguments)),
            ]))
        }
        let refused = !(message.refusal ?? "").isEmpty
        let stopReason = refused ? "refusal" : StopReason.anthropic(fromOpenAI: choice.finish_reason) ?? "end_turn"
        let usage = completion.usage.map(TokenUsage.init(_:))
        let object: JSONObject = [
            "id": .string(ResponseID.anthropic(fromOpenAI: completion.id)),
            "type": "message",
            "role": "assistant",
            "model": .string(model),
            "content": .array(content),
            "stop_reason": .string(stopReason),
            "stop_sequence": .null,
            "usage": (usage ?? .zero).anthropicJSON,
        ]
        var out = ByteBuffer()
        out.writeJSON(object)
        return TranslatedResponse(body: out, usage: usage)
    }

    /// OpenAI tool arguments (JSON text) as an Anthropic `input` object.
    static func toolInput(_ arguments: String?) -> JSONObject {
        guard let arguments, !arguments.allSatisfy(\.isWhitespace) else { return [:] }
        if let parsed = try? WireJSON.decode(JSONValue.self, from: arguments), let object = parsed.objectValue { return object }
        return ["_raw_arguments": .string(arguments)]
    }
}
