import Foundation

/// What the fake provider answers one request with, decided from the model's behavior. The
/// OpenAI and Anthropic routes render the same answer in their own wire formats.
struct FakeAnswer {
    var text: String
    var toolCalls: [FakeToolCall] = []
    var promptTokens: Int
    var cacheReadTokens = 0
    var cacheWriteTokens = 0
    /// Pause before each streamed content event.
    var interval: Duration = .zero
    /// Break the connection before this content event.
    var cutAfter: Int?
    /// Report an in-stream error before this content event.
    var errorAfter: Int?
    /// The in-stream error quotes the provider API key.
    var errorEchoesKey = false
    /// The answer stopped at the request's output token cap.
    var truncated = false
    /// Stream pieces chosen by the test (else one word each).
    var pieces: [String]?

    /// What a request gets instead of an answer, in whichever format it spoke.
    enum Plan {
        case answer(FakeAnswer)
        case error(status: Int, type: String, code: String?, message: String)
        case rateLimited(retryAfter: Int)
        case garbage
        case raw(String, stream: Bool)
    }

    var completionTokens: Int {
        (self.text.isEmpty ? 0 : FakeProviderRoutes.countTokens(self.text))
            + self.toolCalls.reduce(0) { $0 + FakeProviderRoutes.countTokens($1.arguments) }
    }

    /// The text as stream pieces: one word each, spaces kept in front.
    var textPieces: [String] {
        if let pieces = self.pieces { return pieces }
        guard !self.text.isEmpty else { return [] }
        return self.text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map {
            $0.offset == 0 ? String($0.element) : " " + $0.element
        }
    }

    /// Tool arguments cut in several pieces, the way providers stream them (mid-token).
    static func argumentPieces(_ arguments: String) -> [String] {
        let characters = Array(arguments)
        guard characters.count > 3 else { return [arguments] }
        let size = max(1, characters.count / 4)
        return stride(from: 0, to: characters.count, by: size).map { String(characters[$0..<min($0 + size, characters.count)]) }
    }

    /// - Parameters:
    ///   - prompt: the text of the last user message.
    ///   - toolResult: the content of a tool result ending the conversation, if one does.
    ///   - maxTokens: the output cap to honour (words), if the format enforces it here.
    ///   - offeredTools: the names of the tools the request offers. With the normal behavior, a
    ///     prompt `call_tool: <text>` calls the first one with `{"location":"<text>"}`, and a
    ///     conversation ending in a tool result gets "Tool said: <result>" (how the stand-alone
    ///     fake, which tests cannot script, is asked for a tool loop).
    static func plan(
        behavior: Behavior, prompt: String, toolResult: String?, promptTokens: Int, stream: Bool, maxTokens: Int? = nil,
        offeredTools: [String] = []
    ) async throws -> Plan {
        var answer = FakeAnswer(text: "Echo: \(prompt)", promptTokens: promptTokens)
        switch behavior {
        case .normal:
            if let toolResult, !offeredTools.isEmpty {
                answer.text = "Tool said: \(toolResult)"
            } else if prompt.hasPrefix("call_tool:"), let tool = offeredTools.first {
                let location = prompt.dropFirst("call_tool:".count).trimmingCharacters(in: .whitespaces)
                let arguments = try JSONSerialization.data(withJSONObject: ["location": location], options: [.sortedKeys])
                answer.text = ""
                answer.toolCalls = [FakeToolCall(name: tool, arguments: String(decoding: arguments, as: UTF8.self))]
            }
        case .reply(let reply): answer.text = reply
        case .delay(let delay): try await Task.sleep(for: delay)
        case .held(let gate): await gate.pass()
        case .sequence:
            // `FakeProvider.behavior(for:)` hands out one step at a time; a nested list answers normally.
            break
        case .error(let status, let type, let code, let message):
            return .error(status: status, type: type, code: code, message: message)
        case .rateLimited(let retryAfter): return .rateLimited(retryAfter: retryAfter)
        case .slowStream(let chunks, let every):
            answer.interval = every
            answer.text = (0..<chunks).map { "word\($0)" }.joined(separator: " ")
            if !stream { try await Task.sleep(for: every * chunks) }
        case .cutStream(let afterChunks):
            answer.cutAfter = afterChunks
            answer.text = (0..<(afterChunks + 5)).map { "word\($0)" }.joined(separator: " ")
        case .garbage: return .garbage
        case .raw(let body): return .raw(body, stream: stream)
        case .pieces(let pieces):
            answer.text = pieces.joined()
            answer.pieces = pieces
        case .toolCalls(let calls, let text):
            if let toolResult {
                answer.text = "Tool said: \(toolResult)"
            } else {
                answer.text = text ?? ""
                answer.toolCalls = calls
            }
        case .promptCache(let read, let write):
            answer.cacheReadTokens = read
            answer.cacheWriteTokens = write
            answer.promptTokens = max(promptTokens, read + write)
        case .streamError(let afterChunks, let echoingKey):
            answer.errorAfter = afterChunks
            answer.errorEchoesKey = echoingKey
            answer.text = (0..<(afterChunks + 5)).map { "word\($0)" }.joined(separator: " ")
        }
        if let maxTokens, answer.toolCalls.isEmpty {
            let words = answer.text.split(separator: " ", omittingEmptySubsequences: false)
            if words.count > maxTokens {
                answer.text = words.prefix(maxTokens).joined(separator: " ")
                answer.truncated = true
            }
        }
        return .answer(answer)
    }

    static func randomID(_ length: Int = 24) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }
}
