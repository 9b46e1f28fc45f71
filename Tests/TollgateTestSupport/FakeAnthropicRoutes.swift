import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The fake provider's Anthropic Messages endpoint, `POST /v1/messages`, shaped like the real
/// API: `x-api-key` and `anthropic-version` checked, errors as `{"type":"error","error":{…}}`,
/// streams as named events (`message_start` with usage, `ping`, `content_block_*` with text
/// and `tool_use` blocks whose input streams as `input_json_delta`s, `message_delta` with the
/// stop reason and output usage, `message_stop`).
enum FakeAnthropicRoutes {
    static func messages(_ request: Request, context: BasicRequestContext, provider: FakeProvider) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 << 20)
        let received = ReceivedRequest(request, body: body)
        provider.record(received)
        guard received.headers["x-api-key"] == provider.apiKey else {
            return self.error(status: 401, type: "authentication_error", message: "invalid x-api-key")
        }
        guard received.headers["anthropic-version"] != nil else {
            return self.error(status: 400, type: "invalid_request_error", message: "anthropic-version: header is required")
        }
        guard let json = received.json else {
            return self.error(status: 400, type: "invalid_request_error", message: "There was an issue with your request body: not valid JSON.")
        }
        for field in ["model", "messages", "max_tokens"] where json[field] == nil {
            return self.error(status: 400, type: "invalid_request_error", message: "\(field): Field required")
        }
        guard let model = json["model"] as? String, let messages = json["messages"] as? [[String: Any]], !messages.isEmpty,
            let maxTokens = json["max_tokens"] as? Int
        else {
            return self.error(status: 400, type: "invalid_request_error", message: "messages: at least one message is required")
        }
        let stream = json["stream"] as? Bool ?? false
        let lastUser = messages.last(where: { $0["role"] as? String == "user" })
        let toolResult = self.toolResultText(lastUser?["content"])
        let promptTokens = self.countTokens(system: json["system"], messages: messages)

        let answer: FakeAnswer
        switch try await FakeAnswer.plan(
            behavior: provider.behavior(for: model), prompt: self.text(of: lastUser?["content"]), toolResult: toolResult,
            promptTokens: promptTokens, stream: stream, maxTokens: maxTokens,
            offeredTools: (json["tools"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        ) {
        case .answer(let planned): answer = planned
        case .error(let status, let type, _, let message): return self.error(status: status, type: type, message: message)
        case .rateLimited(let retryAfter):
            var response = self.error(
                status: 429, type: "rate_limit_error",
                message: "This request would exceed the rate limit for your organization of 50 requests per minute."
            )
            response.headers[.retryAfter] = String(retryAfter)
            response.headers[HTTPField.Name("anthropic-ratelimit-requests-remaining")!] = "0"
            return response
        case .raw(let body, let stream):
            return Response(status: .ok, headers: [.contentType: stream ? "text/event-stream" : "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        case .garbage:
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "<html>oops")))
        }

        let id = "msg_01Fake" + FakeAnswer.randomID(16)
        let tools = answer.toolCalls.map { (id: "toolu_01" + FakeAnswer.randomID(22), call: $0) }
        let stopReason = !tools.isEmpty ? "tool_use" : (answer.truncated ? "max_tokens" : "end_turn")
        let outputTokens = max(1, answer.completionTokens)
        let inputTokens = max(0, answer.promptTokens - answer.cacheReadTokens - answer.cacheWriteTokens)
        let usage: [String: Any] = [
            "input_tokens": inputTokens, "cache_creation_input_tokens": answer.cacheWriteTokens,
            "cache_read_input_tokens": answer.cacheReadTokens, "output_tokens": outputTokens, "service_tier": "standard",
        ]
        guard stream else {
            var content: [[String: Any]] = []
            if !answer.text.isEmpty { content.append(["type": "text", "text": answer.text]) }
            for tool in tools {
                let input = (try? JSONSerialization.jsonObject(with: Data(tool.call.arguments.utf8))) ?? [String: Any]()
                content.append(["type": "tool_use", "id": tool.id, "name": tool.call.name, "input": input])
            }
            var response = FakeProviderRoutes.json([
                "id": id, "type": "message", "role": "assistant", "model": model, "content": content,
                "stop_reason": stopReason, "stop_sequence": NSNull(), "usage": usage,
            ])
            response.headers[HTTPField.Name("request-id")!] = "req_fake" + FakeAnswer.randomID(12)
            return response
        }

        var startUsage = usage
        startUsage["output_tokens"] = 1
        let opening = [self.event("message_start", [
            "type": "message_start",
            "message": [
                "id": id, "type": "message", "role": "assistant", "model": model, "content": [Any](),
                "stop_reason": NSNull(), "stop_sequence": NSNull(), "usage": startUsage,
            ] as [String: Any],
        ])]
        var content: [ByteBuffer] = []
        var index = 0
        if !answer.text.isEmpty {
            content.append(self.event("content_block_start", ["type": "content_block_start", "index": index, "content_block": ["type": "text", "text": ""]]))
            content.append(self.event("ping", ["type": "ping"]))
            for piece in answer.textPieces {
                content.append(self.event("content_block_delta", [
                    "type": "content_block_delta", "index": index, "delta": ["type": "text_delta", "text": piece],
                ]))
            }
            content.append(self.event("content_block_stop", ["type": "content_block_stop", "index": index]))
            index += 1
        }
        for tool in tools {
            content.append(self.event("content_block_start", [
                "type": "content_block_start", "index": index,
                "content_block": ["type": "tool_use", "id": tool.id, "name": tool.call.name, "input": [String: Any]()] as [String: Any],
            ]))
            for piece in [""] + FakeAnswer.argumentPieces(tool.call.arguments) {
                content.append(self.event("content_block_delta", [
                    "type": "content_block_delta", "index": index, "delta": ["type": "input_json_delta", "partial_json": piece],
                ]))
            }
            content.append(self.event("content_block_stop", ["type": "content_block_stop", "index": index]))
            index += 1
        }
        let closing = [
            self.event("message_delta", [
                "type": "message_delta", "delta": ["stop_reason": stopReason, "stop_sequence": NSNull()] as [String: Any],
                "usage": ["output_tokens": outputTokens],
            ]),
            self.event("message_stop", ["type": "message_stop"]),
        ]
        let streamError = self.event("error", ["type": "error", "error": [
            "type": "overloaded_error", "message": "Overloaded" + (answer.errorEchoesKey ? " (key \(provider.apiKey))" : ""),
        ]])
        var response = FakeProviderRoutes.stream(
            provider: provider, opening: opening, content: content, closing: closing, answer: answer, errorEvent: streamError
        )
        response.headers[.contentType] = "text/event-stream; charset=utf-8"
        response.headers[HTTPField.Name("request-id")!] = "req_fake" + FakeAnswer.randomID(12)
        return response
    }

    // MARK: - Helpers

    /// The text of a message's content: the string, or its text blocks joined.
    static func text(of content: Any?) -> String {
        if let text = content as? String { return text }
        let blocks = content as? [[String: Any]] ?? []
        return blocks.compactMap { $0["type"] as? String == "text" ? $0["text"] as? String : nil }.joined(separator: "\n")
    }

    /// The text of the tool results in a user turn, or nil when it has none.
    static func toolResultText(_ content: Any?) -> String? {
        let results = (content as? [[String: Any]] ?? []).filter { $0["type"] as? String == "tool_result" }
        guard !results.isEmpty else { return nil }
        return results.map { self.text(of: $0["content"]) }.joined(separator: "\n")
    }

    static func countTokens(system: Any?, messages: [[String: Any]]) -> Int {
        let systemTokens = system.map { FakeProviderRoutes.countTokens(self.text(of: $0)) } ?? 0
        return messages.reduce(systemTokens) { $0 + FakeProviderRoutes.countTokens(self.text(of: $1["content"])) + 4 }
    }

    static func error(status: Int, type: String, message: String) -> Response {
        var response = FakeProviderRoutes.json(["type": "error", "error": ["type": type, "message": message]])
        response.status = .init(code: status)
        response.headers[HTTPField.Name("request-id")!] = "req_fake" + FakeAnswer.randomID(12)
        return response
    }

    static func event(_ name: String, _ object: [String: Any]) -> ByteBuffer {
        let data = try! JSONSerialization.data(withJSONObject: object)
        var buffer = ByteBuffer(string: "event: \(name)\ndata: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }
}
