import Foundation
import Testing
@testable import TollgateCore
import TollgateTestSupport

/// Hardening (issue 15, items 3-5): duplicate JSON keys at any depth, oversized or
/// control-character identifiers, and keys bound to a user acting as someone else.
@Suite struct StrictInputTests {
    static func error(_ reply: TestHTTPClient.Reply) -> [String: Any]? { reply.json?["error"] as? [String: Any] }

    @Test func duplicateKeysAreRefusedAtAnyDepthInEveryFormat() async throws {
        try await GatewayHarness.run(localEmbeddings: false) { gateway in
            let (_, restricted) = try gateway.keyStore.create(name: "mini-only", allowedModels: ["gpt-4o-mini"])
            let headers = [("Authorization", "Bearer \(restricted)"), ("Content-Type", "application/json")]
            let smuggled = #"{"model":"o1","model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#
            let reply = try await gateway.http.send("POST", "/v1/chat/completions", headers: headers, body: Data(smuggled.utf8))
            #expect(reply.status == 400 && Self.error(reply)?["param"] as? String == "model")
            #expect((Self.error(reply)?["message"] as? String)?.contains("'model' twice") == true)

            let nested = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a","content":"b"}]}"#
            #expect(try await gateway.chat(nested).status == 400)
            let anthropic = #"{"model":"claude-haiku-4-5","max_tokens":5,"max_tokens":5000,"messages":[{"role":"user","content":"hi"}]}"#
            let message = try await gateway.messages(anthropic)
            #expect(message.status == 400 && message.text.contains("max_tokens"))
            let embeddings = #"{"model":"text-embedding-3-small","input":"a","input":"b"}"#
            let embedded = try await gateway.http.send("POST", "/v1/embeddings", headers: gateway.auth, body: Data(embeddings.utf8))
            #expect(embedded.status == 400)
            #expect(gateway.provider.received.isEmpty, "nothing went upstream")
            #expect(try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ok"}]}"#).status == 200)
        }
    }

    @Test func identifiersAreBoundedAndFreeOfControlCharacters() async throws {
        try await GatewayHarness.run { gateway in
            let huge = String(repeating: "u", count: 5 << 20)
            for (body, param, extra) in [
                (#"{"model":"gpt-4o-mini","user":"\#(huge)","messages":[{"role":"user","content":"x"}]}"#, "user", [(String, String)]()),
                (#"{"model":"gpt-4o-mini","user":"a\u0000b","messages":[{"role":"user","content":"x"}]}"#, "user", []),
                (#"{"model":"gpt-4o-mini\u0000","messages":[{"role":"user","content":"x"}]}"#, "model", []),
                (#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"#, "X-Tollgate-User", [("X-Tollgate-User", String(repeating: "h", count: 300))]),
            ] {
                let reply = try await gateway.chat(body, headers: extra)
                #expect(reply.status == 400, "\(param)")
                #expect(Self.error(reply)?["param"] as? String == param)
            }
            let anthropic = #"{"model":"claude-haiku-4-5","max_tokens":5,"metadata":{"user_id":"\#(String(repeating: "m", count: 257))"},"messages":[{"role":"user","content":"x"}]}"#
            #expect(try await gateway.messages(anthropic).status == 400)
            #expect(gateway.provider.received.isEmpty)
            let fine = #"{"model":"gpt-4o-mini","user":"\#(String(repeating: "u", count: 256))","messages":[{"role":"user","content":"x"}]}"#
            #expect(try await gateway.chat(fine).status == 200, "256 bytes is the limit, not over it")
        }
    }

    @Test func aKeyBoundToAUserCannotActAsAnother() async throws {
        try await GatewayHarness.run { gateway in
            let (_, bob) = try gateway.keyStore.create(name: "bobs-key", team: "qa", user: "bob")
            let headers = [("Authorization", "Bearer \(bob)"), ("Content-Type", "application/json")]
            func send(_ body: String, _ extra: [(String, String)] = []) async throws -> TestHTTPClient.Reply {
                try await gateway.http.send("POST", "/v1/chat/completions", headers: headers + extra, body: Data(body.utf8))
            }
            let asDave = try await send(#"{"model":"gpt-4o-mini","user":"dave","messages":[{"role":"user","content":"x"}]}"#)
            #expect(asDave.status == 403 && Self.error(asDave)?["code"] as? String == "user_not_allowed")
            let viaHeader = try await send(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"#, [("X-Tollgate-User", "carol")])
            #expect(viaHeader.status == 403 && Self.error(viaHeader)?["param"] as? String == "X-Tollgate-User")
            let embedding = try await gateway.http.send(
                "POST", "/v1/embeddings", headers: headers, body: Data(#"{"model":"text-embedding-3-small","input":"a","user":"dave"}"#.utf8)
            )
            #expect(embedding.status == 403)
            #expect(gateway.provider.received.isEmpty)

            let asBob = try await send(#"{"model":"gpt-4o-mini","user":"bob","messages":[{"role":"user","content":"x"}]}"#)
            #expect(asBob.status == 200)
            let unnamed = try await send(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"y"}]}"#)
            #expect(unnamed.status == 200)
            #expect(try await FallbackChainTests.row(gateway, for: unnamed).user == "bob")
            // A key with no user still names its end users freely.
            let free = try await gateway.chat(#"{"model":"gpt-4o-mini","user":"dave","messages":[{"role":"user","content":"z"}]}"#)
            let freeRow = try await FallbackChainTests.row(gateway, for: free)
            #expect(free.status == 200 && freeRow.user == "dave")
        }
    }
}
