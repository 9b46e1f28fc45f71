import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The provider `tollgate demo` talks to: an OpenAI-compatible Chat Completions endpoint on
/// loopback that answers every model with a short made-up text, plain or streamed with usage,
/// and answers 503 for models the demo has taken down (to show fallbacks). No account, no
/// network.
final class SimulatedProvider: Sendable {
    static let apiKey = "sk-demo-simulated-provider"

    private let down = Mutex<Set<String>>([])

    /// Makes requests for `models` fail with 503 (an empty set brings every model back).
    func setDown(_ models: Set<String>) {
        self.down.withLock { $0 = models }
    }

    func application(onPort: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in
            try await self.chatCompletions(request)
        }
        var logger = Logger(label: "simulated-provider")
        logger.logLevel = .warning
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "simulated-provider"),
            onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    private func chatCompletions(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 << 20)
        guard request.headers[.authorization] == "Bearer \(Self.apiKey)" else {
            return Self.error(401, type: "invalid_request_error", message: "Incorrect API key provided.")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
            let model = json["model"] as? String, let messages = json["messages"] as? [[String: Any]]
        else {
            return Self.error(400, type: "invalid_request_error", message: "We could not parse the JSON body of your request.")
        }
        if self.down.withLock({ $0.contains(model) }) {
            return Self.error(503, type: "server_error", message: "The simulated \(model) is down for the demo.")
        }
        let promptBytes = messages.reduce(0) { $0 + ((($1["content"] as? String) ?? "").utf8.count) }
        let promptTokens = max(1, promptBytes / 4) + 4 * messages.count
        let text = "A simulated answer from \(model): the gateway chose this model, counted the tokens and priced them."
        let completionTokens = text.utf8.count / 4
        let usage: [String: Any] = [
            "prompt_tokens": promptTokens, "completion_tokens": completionTokens, "total_tokens": promptTokens + completionTokens,
        ]
        let id = "chatcmpl-sim\(UInt32.random(in: 0...UInt32.max))"
        let created = Int(Date().timeIntervalSince1970)
        guard json["stream"] as? Bool == true else {
            return Self.json([
                "id": id, "object": "chat.completion", "created": created, "model": model,
                "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
                "usage": usage,
            ])
        }
        let includeUsage = (json["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
        var events: [[String: Any]] = [["index": 0, "delta": ["role": "assistant", "content": ""], "finish_reason": NSNull()]]
        for word in text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map({ $0.offset == 0 ? String($0.element) : " " + $0.element }) {
            events.append(["index": 0, "delta": ["content": word], "finish_reason": NSNull()])
        }
        events.append(["index": 0, "delta": [:] as [String: Any], "finish_reason": "stop"])
        var sse = ""
        for choice in events {
            let chunk: [String: Any] = ["id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [choice]]
            sse += "data: " + Self.encode(chunk) + "\n\n"
        }
        if includeUsage {
            let chunk: [String: Any] = ["id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [], "usage": usage]
            sse += "data: " + Self.encode(chunk) + "\n\n"
        }
        sse += "data: [DONE]\n\n"
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream"], body: .init(byteBuffer: ByteBuffer(string: sse))
        )
    }

    private static func encode(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }

    private static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: Self.encode(object))))
    }

    private static func error(_ status: Int, type: String, message: String) -> Response {
        Self.json(["error": ["message": message, "type": type, "param": NSNull(), "code": NSNull()]], status: .init(code: status))
    }
}
