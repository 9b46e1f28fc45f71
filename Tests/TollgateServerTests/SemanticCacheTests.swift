import Foundation
import Testing
@testable import TollgateCore
import TollgateTestSupport

/// The semantic cache on a live gateway with the real embedding model and the shipped guard:
/// a paraphrase is answered with the stored answer; a different number or a negation is not;
/// teams and conversation contexts never share; entries survive a restart.
@Suite struct SemanticCacheTests {
    static func semantic(_ config: inout GatewayConfig) { config.cache.mode = .semantic }

    static func ask(_ question: String, system: String? = nil, stream: Bool = false) -> String {
        let system = system.map { #"{"role":"system","content":"\#($0)"},"# } ?? ""
        return #"{"model":"gpt-4o-mini","stream":\#(stream),"messages":[\#(system){"role":"user","content":"\#(question)"}]}"#
    }

    static let question = "How can I improve my English speaking skills?"
    static let paraphrase = "How do I improve my English speaking skills?"

    @Test func aParaphraseIsAnsweredWithTheStoredAnswer() async throws {
        try await GatewayHarness.run(localEmbeddings: true, configure: Self.semantic) { gateway in
            let first = try await gateway.chat(Self.ask(Self.question))
            #expect(first.status == 200 && first.header("X-Tollgate-Cache") == "miss")
            let hit = try await gateway.chat(Self.ask(Self.paraphrase))
            #expect(hit.status == 200 && hit.header("X-Tollgate-Cache") == "semantic")
            #expect(ResponseCacheTests.content(hit) == "Echo: " + Self.question)
            #expect(hit.header("X-Tollgate-Cost-USD") == USD.zero.description)
            let similarity = try #require(hit.header("X-Tollgate-Cache-Similarity").flatMap(Double.init))
            #expect(similarity > 0.9 && similarity < 1)
            #expect(gateway.provider.received.count == 1)

            let original = try await FallbackChainTests.row(gateway, for: first)
            let row = try await FallbackChainTests.row(gateway, for: hit)
            #expect(row.cacheStatus == .semantic && row.costNanodollars == 0 && row.cacheAvoidedNanodollars == original.costNanodollars)

            // Streamed: the stored answer replayed as a stream.
            let streamed = try await gateway.chat(Self.ask(Self.paraphrase, stream: true))
            #expect(streamed.header("X-Tollgate-Cache") == "semantic")
            #expect(ssePayloads(streamed.text).last == "[DONE]" && streamed.text.contains("Echo: How can I improve"))
        }
    }

    @Test func aDifferentNumberOrANegationIsAMiss() async throws {
        try await GatewayHarness.run(localEmbeddings: true, configure: Self.semantic) { gateway in
            for (stored, asked) in [
                ("What is the population of India in 2020?", "What is the population of India in 2010?"),
                ("Is coffee good for your health?", "Is coffee not good for your health?"),
                ("How do I learn Python programming?", "How do I learn Java programming?"),
            ] {
                _ = try await gateway.chat(Self.ask(stored))
                let reply = try await gateway.chat(Self.ask(asked))
                #expect(reply.header("X-Tollgate-Cache") == "miss", "\(asked) must not get the answer to \(stored)")
                #expect(ResponseCacheTests.content(reply) == "Echo: " + asked)
            }
        }
    }

    @Test func teamsAndConversationContextsNeverShare() async throws {
        try await GatewayHarness.run(localEmbeddings: true, configure: Self.semantic) { gateway in
            _ = try await gateway.chat(Self.ask(Self.question, system: "You are a tutor."))
            // Another system prompt: another partition.
            let otherContext = try await gateway.chat(Self.ask(Self.paraphrase, system: "You are a pirate."))
            #expect(otherContext.header("X-Tollgate-Cache") == "miss")
            // Another team: never, not even the exact question.
            let (_, other) = try gateway.keyStore.create(name: "other-team", team: "finance")
            let headers = [("Authorization", "Bearer \(other)"), ("Content-Type", "application/json")]
            for question in [Self.paraphrase, Self.question] {
                // no-store: the other team's own answers do not get in the way of the next check.
                let reply = try await gateway.http.send(
                    "POST", "/v1/chat/completions", headers: headers + [("Cache-Control", "no-store")],
                    body: Data(Self.ask(question, system: "You are a tutor.").utf8)
                )
                #expect(reply.status == 200 && reply.header("X-Tollgate-Cache") == "miss")
            }
            let same = try await gateway.chat(Self.ask(Self.paraphrase, system: "You are a tutor."))
            #expect(same.header("X-Tollgate-Cache") == "semantic")
        }
    }

    @Test func controlsAndRoutesTurnItOff() async throws {
        try await GatewayHarness.run(localEmbeddings: true, configure: Self.semantic) { gateway in
            _ = try await gateway.chat(Self.ask(Self.question), headers: [("Cache-Control", "no-store")])
            let notStored = try await gateway.chat(Self.ask(Self.paraphrase), headers: [("Cache-Control", "no-store")])
            #expect(notStored.header("X-Tollgate-Cache") == "miss", "no-store stored nothing")
            // no-cache: not read, but stored.
            let refreshed = try await gateway.chat(Self.ask(Self.question), headers: [("Cache-Control", "no-cache")])
            #expect(refreshed.header("X-Tollgate-Cache") == "miss")
            #expect(try await gateway.chat(Self.ask(Self.paraphrase)).header("X-Tollgate-Cache") == "semantic")

            try gateway.writeRoutes("""
                routes:
                  - name: exact-only
                    default: true
                    target: passthrough
                    cache: { semantic: false }
                """)
            #expect(try await gateway.adminReload().status == 200)
            _ = try await gateway.chat(Self.ask("What is the capital city of France?"))
            let reply = try await gateway.chat(Self.ask("What's the capital city of France?"))
            #expect(reply.header("X-Tollgate-Route") == "exact-only" && reply.header("X-Tollgate-Cache") == "miss")
        }
    }

    @Test func entriesSurviveARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-semantic-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await GatewayHarness.run(localEmbeddings: true, dataDirectory: directory, configure: Self.semantic) { gateway in
            _ = try await gateway.chat(Self.ask(Self.question))
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/semantic-cache.bin"), "written at shutdown")
        try await GatewayHarness.run(localEmbeddings: true, dataDirectory: directory, configure: Self.semantic) { gateway in
            let hit = try await gateway.chat(Self.ask(Self.paraphrase))
            #expect(hit.header("X-Tollgate-Cache") == "semantic" && ResponseCacheTests.content(hit) == "Echo: " + Self.question)
            #expect(gateway.provider.received.isEmpty)
        }
    }

    @Test func semanticModeNeedsTheModel() async throws {
        await #expect(throws: ConfigError.self) {
            try await GatewayHarness.run(localEmbeddings: false, configure: Self.semantic) { _ in }
        }
    }
}
