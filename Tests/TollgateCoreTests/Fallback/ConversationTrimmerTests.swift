import Foundation
import Testing
@testable import TollgateCore

/// Trimming a conversation for a fallback model with a smaller window: whole turns go,
/// oldest first, after the system prompt; the last turn stays; a note takes their place.
@Suite struct ConversationTrimmerTests {
    /// One token per word, so that sizes are easy to read.
    static let trimmer = ConversationTrimmer { $0.split(separator: " ").count }
    static let note: @Sendable (Int) -> String = { "[\($0) dropped]" }

    static func words(_ n: Int, _ word: String) -> String { Array(repeating: word, count: n).joined(separator: " ") }

    @Test func planDropsWholeTurnsOldestFirstAndNeverTheLast() {
        typealias M = ConversationTrimmer.Message
        let messages = [
            M(tokens: 5, opensTurn: false),  // pinned system prompt
            M(tokens: 10, opensTurn: true), M(tokens: 10, opensTurn: false),
            M(tokens: 10, opensTurn: true), M(tokens: 10, opensTurn: false), M(tokens: 10, opensTurn: false),
            M(tokens: 10, opensTurn: true),
        ]
        #expect(ConversationTrimmer.plan(messages, pinned: 1, excess: 1) == .init(dropped: 1..<3, droppedTokens: 20))
        #expect(ConversationTrimmer.plan(messages, pinned: 1, excess: 21) == .init(dropped: 1..<6, droppedTokens: 50))
        #expect(ConversationTrimmer.plan(messages, pinned: 1, excess: 51) == nil)
        #expect(ConversationTrimmer.plan(messages, pinned: 1, excess: 0) == nil)
        #expect(ConversationTrimmer.plan([M(tokens: 100, opensTurn: true)], pinned: 0, excess: 1) == nil)
    }

    @Test func chatKeepsSystemPromptAndToolCallsWithTheirResults() throws {
        let call: JSONValue = .object(["id": "call_1", "type": "function", "function": .object(["name": "lookup", "arguments": "{}"])])
        var toolCall = ChatMessage(role: .assistant, content: nil)
        toolCall.toolCalls = [call]
        var toolResult = ChatMessage(role: .tool, content: .text(Self.words(30, "result")))
        toolResult.toolCallID = "call_1"
        let request = ChatCompletionRequest(model: "m", messages: [
            ChatMessage(role: .system, content: .text("be brief")),
            ChatMessage(role: .user, content: .text(Self.words(20, "first"))),
            toolCall, toolResult,
            ChatMessage(role: .assistant, content: .text(Self.words(20, "answer"))),
            ChatMessage(role: .user, content: .text(Self.words(20, "second"))),
            ChatMessage(role: .assistant, content: .text(Self.words(20, "reply"))),
            ChatMessage(role: .user, content: .text("last question")),
        ])
        // Just past what the first turn's user message alone would free: the tool call and
        // its result go with it, never one without the other.
        let (trimmed, trim) = try #require(Self.trimmer.trim(request, excess: 25, note: Self.note))
        #expect(trim.dropped == 1..<5)
        #expect(trimmed.messages.map(\.role) == [.system, .user, .assistant, .user])
        #expect(trimmed.messages[1].content?.text == "[4 dropped]\n\n" + Self.words(20, "second"))
        #expect(!trimmed.messages.contains { $0.role == .tool || $0.toolCalls != nil })
        #expect(trimmed.messages.last?.content?.text == "last question")

        // Everything but the last turn, then nothing more to give.
        let (most, _) = try #require(Self.trimmer.trim(request, excess: 120, note: Self.note))
        #expect(most.messages.map(\.role) == [.system, .user])
        #expect(most.messages[1].content?.text == "[6 dropped]\n\nlast question")
        #expect(Self.trimmer.trim(request, excess: 500, note: Self.note) == nil)
    }

    @Test func anthropicToolResultsDoNotStartATurn() throws {
        let toolUse: JSONObject = ["type": "tool_use", "id": "toolu_1", "name": "lookup", "input": .object(["q": "x"])]
        let toolResult: JSONObject = ["type": "tool_result", "tool_use_id": "toolu_1", "content": .string(Self.words(40, "data"))]
        var request = AnthropicMessagesRequest(model: "m", messages: [
            AnthropicMessage(role: .user, content: .text(Self.words(10, "first"))),
            AnthropicMessage(role: .assistant, content: .blocks([toolUse])),
            AnthropicMessage(role: .user, content: .blocks([toolResult])),
            AnthropicMessage(role: .assistant, content: .text(Self.words(10, "answer"))),
            AnthropicMessage(role: .user, content: .blocks([["type": "text", "text": "second"]])),
        ], maxTokens: 100)
        request.system = .text("be brief")
        let (trimmed, trim) = try #require(Self.trimmer.trim(request, excess: 5, note: Self.note))
        // The tool result is a user message but not a turn: the cut goes to the next real one.
        #expect(trim.dropped == 0..<4)
        #expect(trimmed.system == .text("be brief"))
        #expect(trimmed.messages.count == 1 && trimmed.messages[0].role == .user)
        #expect(trimmed.messages[0].content.contentBlocks.compactMap { $0["text"]?.stringValue } == ["[4 dropped]", "second"])
    }
}
