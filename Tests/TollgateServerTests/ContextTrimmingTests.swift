import Foundation
import Testing
@testable import TollgateCore
import TollgateTestSupport

/// A fallback model with a smaller context window than the conversation gets it trimmed:
/// system prompt and latest turns kept, oldest turns dropped whole, the
/// `trimmed-context` note in their place, and its output capped to what it can write.
@Suite struct ContextTrimmingTests {
    static let routes = """
        routes:
          - name: to-small
            when: { feature: model, eq: gpt-4o }
            target: gpt-4o
            retries: 0
            fallbacks: [gpt-4o-mini, template: busy]
          - { name: default, default: true, target: passthrough }
        """

    /// gpt-4o-mini as a model with a 300-token window that writes at most 50.
    static let prices = GatewayHarness.testPrices.replacingOccurrences(
        of: "gpt-4o-mini: { input: 0.15, cached_input: 0.075, output: 0.60 }",
        with: "gpt-4o-mini: { input: 0.15, cached_input: 0.075, output: 0.60, context_window: 300, max_output: 50 }"
    )

    static func withSmallFallback(_ body: @Sendable (GatewayHarness) async throws -> Void) async throws {
        try await GatewayHarness.run(budgets: ["prices.yaml": Self.prices]) { gateway in
            try gateway.writeRoutes(Self.routes)
            #expect(try await gateway.adminReload().status == 200)
            gateway.provider.setBehavior(.error(status: 503, type: "server_error", code: nil, message: "down"), forModel: "gpt-4o")
            try await body(gateway)
        }
    }

    static let turn = Array(repeating: "alpha", count: 60).joined(separator: " ")

    static func conversation(turns: Int, last: String) -> [[String: Any]] {
        var messages: [[String: Any]] = [["role": "system", "content": "You are terse."]]
        for index in 0..<turns {
            messages.append(["role": "user", "content": "question \(index) \(Self.turn)"])
            messages.append(["role": "assistant", "content": "answer \(index) \(Self.turn)"])
        }
        messages.append(["role": "user", "content": last])
        return messages
    }

    static func body(_ json: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
    }

    @Test func theFallbackGetsTheLatestTurnsAndANoteAndACappedOutput() async throws {
        try await Self.withSmallFallback { gateway in
            let messages = Self.conversation(turns: 5, last: "and now?")
            let reply = try await gateway.chat(try Self.body(["model": "gpt-4o", "messages": messages, "max_tokens": 500]))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Model") == "gpt-4o-mini")
            #expect(reply.header("X-Tollgate-Fallback") == "smaller-model")
            // The target got the whole conversation, the fallback a trimmed one.
            #expect((gateway.provider.received(forModel: "gpt-4o").first?.json?["messages"] as? [Any])?.count == messages.count)
            let sent = try #require(gateway.provider.received(forModel: "gpt-4o-mini").first?.json)
            let kept = try #require(sent["messages"] as? [[String: Any]])
            #expect(kept.count < messages.count && kept.count >= 2)
            #expect(kept.first?["content"] as? String == "You are terse.")
            #expect(kept.last?["content"] as? String == "and now?")
            // Whole turns went: what follows the system prompt is a user's message, led by the
            // note of prompts/trimmed-context.mustache.
            let dropped = messages.count - kept.count
            #expect(kept[1]["role"] as? String == "user")
            let first = try #require(kept[1]["content"] as? String)
            #expect(first.hasPrefix("[Note from the gateway: \(dropped) earlier messages") && first.contains("]\n\nquestion "))
            // The client asked for 500 output tokens; the model writes at most 50.
            #expect(sent["max_tokens"] as? Int == 50)
        }
    }

    @Test func anAnthropicConversationIsTrimmedOnTheWayToAnOpenAIFallback() async throws {
        try await Self.withSmallFallback { gateway in
            var messages = Self.conversation(turns: 4, last: "and now?")
            messages.removeFirst()
            let reply = try await gateway.messages(try Self.body([
                "model": "gpt-4o", "system": "You are terse.", "max_tokens": 40, "messages": messages,
            ]))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Fallback") == "smaller-model")
            let sent = try #require(gateway.provider.received(forModel: "gpt-4o-mini").first?.json)
            let kept = try #require(sent["messages"] as? [[String: Any]])
            #expect(kept.first?["role"] as? String == "system")
            #expect(kept.count < messages.count + 1)
            #expect((kept[1]["content"] as? String)?.contains("earlier messages of this conversation were left out") == true)
            // Within what the model allows: the client's own limit stands.
            #expect(sent["max_tokens"] as? Int == 40 || sent["max_completion_tokens"] as? Int == 40)
        }
    }

    @Test func aLastTurnLargerThanTheWindowSkipsTheFallback() async throws {
        try await Self.withSmallFallback { gateway in
            let huge = Array(repeating: "omega", count: 600).joined(separator: " ")
            let reply = try await gateway.chat(try Self.body(["model": "gpt-4o", "messages": Self.conversation(turns: 1, last: huge)]))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Fallback") == "template")
            #expect(gateway.provider.received(forModel: "gpt-4o-mini").isEmpty)
        }
    }
}
