import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The fake provider's OpenAI-format endpoints (the Anthropic one is `FakeAnthropicRoutes`).
enum FakeProviderRoutes {
    static func register(on router: Router<BasicRequestContext>, provider: @escaping @Sendable () -> FakeProvider) {
        router.post("/v1/chat/completions") { request, context in
            try await self.chatCompletions(request, context: context, provider: provider())
        }
        router.post("/openai/deployments/{deployment}/chat/completions") { request, context in
            let provider = provider()
            guard request.headers[HTTPField.Name("api-key")!] == provider.apiKey else {
                let body = try await request.body.collect(upTo: 64 << 20)
                provider.record(.init(request, body: body))
                return self.error(
                    status: 401, type: "invalid_request_error", code: "401",
                    message: "Access denied due to invalid subscription key or wrong API endpoint."
                )
            }
            guard request.uri.queryParameters.get("api-version") != nil else {
                let body = try await request.body.collect(upTo: 64 << 20)
                provider.record(.init(request, body: body))
                return self.error(status: 404, type: "invalid_request_error", code: "404", message: "Resource not found")
            }
            return try await self.chatCompletions(request, context: context, provider: provider, deployment: context.parameters.get("deployment"))
        }
        router.post("/v1/messages") { request, context in
            try await FakeAnthropicRoutes.messages(request, context: context, provider: provider())
        }
        router.post("/v1/embeddings") { request, context in
            try await self.embeddings(request, context: context, provider: provider())
        }
        router.get("/v1/models") { request, context in
            let provider = provider()
            let body = try await request.body.collect(upTo: 1 << 20)
            provider.record(.init(request, body: body))
            if let denied = self.checkKey(request, provider: provider) { return denied }
            let models = ["gpt-4o", "gpt-4o-mini", "gpt-5-mini", "text-embedding-3-small"].map {
                ["id": $0, "object": "model", "created": 1_715_367_049, "owned_by": "system"] as [String: Any]
            }
            return self.json(["object": "list", "data": models])
        }
    }

    // MARK: - Chat completions

    /// `deployment`: served as an Azure deployment (the key was checked already; the
    /// deployment names the model).
    static func chatCompletions(
        _ request: Request, context: BasicRequestContext, provider: FakeProvider, deployment: String? = nil
    ) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 << 20)
        let received = ReceivedRequest(request, body: body)
        provider.record(received)
        if deployment == nil, let denied = self.checkKey(request, provider: provider) { return denied }
        guard let json = received.json, let model = deployment ?? json["model"] as? String,
            let messages = json["messages"] as? [[String: Any]]
        else {
            return self.error(status: 400, type: "invalid_request_error", code: nil, message: "We could not parse the JSON body of your request.")
        }
        let stream = json["stream"] as? Bool ?? false
        let includeUsage = (json["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
        let lastUser = messages.last(where: { $0["role"] as? String == "user" })
        // Content is a string or content parts (what a translated Anthropic request may send).
        let prompt = FakeAnthropicRoutes.text(of: lastUser?["content"])
        let promptTokens = messages.reduce(0) { $0 + self.countTokens(FakeAnthropicRoutes.text(of: $1["content"])) + 4 }
        let toolResult = messages.last?["role"] as? String == "tool" ? FakeAnthropicRoutes.text(of: messages.last?["content"]) : nil

        let answer: FakeAnswer
        switch try await FakeAnswer.plan(
            behavior: provider.behavior(for: model), prompt: prompt, toolResult: toolResult, promptTokens: promptTokens, stream: stream,
            offeredTools: (json["tools"] as? [[String: Any]] ?? []).compactMap { ($0["function"] as? [String: Any])?["name"] as? String }
        ) {
        case .answer(let planned): answer = planned
        case .error(let status, let type, let code, let message):
            return self.error(status: status, type: type, code: code, message: message)
        case .rateLimited(let retryAfter):
            var response = self.error(
                status: 429, type: "requests", code: "rate_limit_exceeded",
                message: "Rate limit reached for \(model) in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1."
            )
            response.headers[.retryAfter] = String(retryAfter)
            response.headers[HTTPField.Name("x-ratelimit-remaining-requests")!] = "0"
            return response
        case .raw(let body, let stream):
            return Response(status: .ok, headers: [.contentType: stream ? "text/event-stream" : "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        case .garbage:
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "<html>oops")))
        }
        let completionTokens = answer.text.isEmpty && answer.toolCalls.isEmpty ? 1 : max(1, answer.completionTokens)
        let id = "chatcmpl-fake\(UInt32.random(in: 0...UInt32.max))"
        let created = Int(Date().timeIntervalSince1970)
        let usage: [String: Any] = [
            "prompt_tokens": answer.promptTokens, "completion_tokens": completionTokens,
            "total_tokens": answer.promptTokens + completionTokens,
            "prompt_tokens_details": ["cached_tokens": answer.cacheReadTokens, "audio_tokens": 0],
            "completion_tokens_details": ["reasoning_tokens": 0, "audio_tokens": 0],
        ]
        let calls = answer.toolCalls.map { (id: "call_" + FakeAnswer.randomID(), call: $0) }
        let finishReason = calls.isEmpty ? "stop" : "tool_calls"
        guard stream else {
            var message: [String: Any] = ["role": "assistant", "content": answer.text, "refusal": NSNull()]
            if !calls.isEmpty {
                if answer.text.isEmpty { message["content"] = NSNull() }
                message["tool_calls"] = calls.map {
                    ["id": $0.id, "type": "function", "function": ["name": $0.call.name, "arguments": $0.call.arguments]] as [String: Any]
                }
            }
            return self.json([
                "id": id, "object": "chat.completion", "created": created, "model": model,
                "choices": [["index": 0, "message": message, "logprobs": NSNull(), "finish_reason": finishReason]],
                "usage": usage, "service_tier": "default", "system_fingerprint": "fp_fake",
            ])
        }
        let base: [String: Any] = ["id": id, "object": "chat.completion.chunk", "created": created, "model": model, "system_fingerprint": "fp_fake"]
        func chunk(_ delta: [String: Any], finish: String?) -> ByteBuffer {
            var object = base
            object["choices"] = [["index": 0, "delta": delta, "logprobs": NSNull(), "finish_reason": finish.map { $0 as Any } ?? NSNull()]]
            if includeUsage { object["usage"] = NSNull() }
            return self.sse(object)
        }
        // Every event is rendered up front; the writer only paces and sends them.
        let opening = chunk(["role": "assistant", "content": "", "refusal": NSNull()], finish: nil)
        var contentEvents = answer.textPieces.map { chunk(["content": $0], finish: nil) }
        for (index, call) in calls.enumerated() {
            contentEvents.append(chunk(["tool_calls": [[
                "index": index, "id": call.id, "type": "function", "function": ["name": call.call.name, "arguments": ""],
            ] as [String: Any]]], finish: nil))
            for piece in FakeAnswer.argumentPieces(call.call.arguments) {
                contentEvents.append(chunk(["tool_calls": [["index": index, "function": ["arguments": piece]] as [String: Any]]], finish: nil))
            }
        }
        var closing = [chunk([:], finish: finishReason)]
        if includeUsage {
            var object = base
            object["choices"] = [Any]()
            object["usage"] = usage
            closing.append(self.sse(object))
        }
        closing.append(ByteBuffer(string: "data: [DONE]\n\n"))
        let streamError = self.sse(["error": [
            "message": "The server had an error while processing your request. Sorry about that!"
                + (answer.errorEchoesKey ? " (request made with key \(provider.apiKey))" : ""),
            "type": "server_error", "param": NSNull(), "code": NSNull(),
        ] as [String: Any]])
        return self.stream(
            provider: provider, opening: [opening], content: contentEvents, closing: closing,
            answer: answer, errorEvent: streamError
        )
    }

    /// Writes a rendered stream: opening events, paced content events (cut or failed where the
    /// behavior says), closing events.
    static func stream(
        provider: FakeProvider, opening: [ByteBuffer], content: [ByteBuffer], closing: [ByteBuffer],
        answer: FakeAnswer, errorEvent: ByteBuffer
    ) -> Response {
        let pace = answer.interval
        let cutIndex = answer.cutAfter
        let errorIndex = answer.errorAfter
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: .init { writer in
            do {
                for event in opening { try await writer.write(event) }
                var failed = false
                for (index, event) in content.enumerated() {
                    if let cutIndex, index == cutIndex { throw FakeStreamCut() }
                    if let errorIndex, index == errorIndex {
                        try await writer.write(errorEvent)
                        failed = true
                        break
                    }
                    if pace > .zero { try await Task.sleep(for: pace) }
                    try await writer.write(event)
                }
                if !failed {
                    for event in closing { try await writer.write(event) }
                }
                try await writer.finish(nil)
                provider.state.withLock { $0.completedStreams += 1 }
            } catch is FakeStreamCut {
                throw FakeStreamCut()
            } catch {
                provider.state.withLock { $0.cancelledStreams += 1 }
                throw error
            }
        })
    }

    struct FakeStreamCut: Error {}

    // MARK: - Embeddings

    static func embeddings(_ request: Request, context: BasicRequestContext, provider: FakeProvider) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 << 20)
        let received = ReceivedRequest(request, body: body)
        provider.record(received)
        if let denied = self.checkKey(request, provider: provider) { return denied }
        guard let json = received.json, let model = json["model"] as? String else {
            return self.error(status: 400, type: "invalid_request_error", code: nil, message: "We could not parse the JSON body of your request.")
        }
        let inputs: [String]
        if let single = json["input"] as? String { inputs = [single] } else { inputs = json["input"] as? [String] ?? [] }
        guard !inputs.isEmpty else {
            return self.error(status: 400, type: "invalid_request_error", code: nil, message: "'input' is required")
        }
        var data: [[String: Any]] = []
        for (index, input) in inputs.enumerated() {
            data.append(["object": "embedding", "index": index, "embedding": self.pseudoEmbedding(input)])
        }
        let tokens = inputs.reduce(0) { $0 + self.countTokens($1) }
        return self.json(["object": "list", "data": data, "model": model, "usage": ["prompt_tokens": tokens, "total_tokens": tokens]])
    }

    /// A deterministic 8-dimensional unit vector derived from the text.
    static func pseudoEmbedding(_ text: String) -> [Double] {
        var hash: UInt64 = 1_469_598_103_934_665_603
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        var values: [Double] = []
        for index in 0..<8 {
            values.append(Double((hash >> (UInt64(index) * 8)) & 0xFF) - 127.5)
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { $0 / norm }
    }

    // MARK: - Helpers

    static func countTokens(_ text: String) -> Int {
        max(1, text.split(whereSeparator: { $0 == " " || $0 == "\n" }).count)
    }

    static func checkKey(_ request: Request, provider: FakeProvider) -> Response? {
        let presented = request.headers[.authorization]
        guard presented == "Bearer \(provider.apiKey)" else {
            let shown = presented.map { String($0.dropFirst(7).prefix(5)) + "***" + String($0.suffix(4)) } ?? "none"
            return self.error(
                status: 401, type: "invalid_request_error", code: "invalid_api_key",
                message: "Incorrect API key provided: \(shown). You can find your API key at https://platform.openai.com/account/api-keys."
            )
        }
        return nil
    }

    static func error(status: Int, type: String, code: String?, message: String) -> Response {
        let body: [String: Any] = ["error": ["message": message, "type": type, "param": NSNull(), "code": code.map { $0 as Any } ?? NSNull()]]
        var response = self.json(body)
        response.status = .init(code: status)
        return response
    }

    static func json(_ object: Any) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: object)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func sse(_ object: Any) -> ByteBuffer {
        let data = try! JSONSerialization.data(withJSONObject: object)
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }
}

extension ReceivedRequest {
    init(_ request: Request, body: ByteBuffer) {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        self.init(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers,
            body: Data(body.readableBytesView)
        )
    }
}
