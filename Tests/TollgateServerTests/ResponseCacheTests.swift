import Foundation
import Testing
@testable import TollgateCore
import TollgateTestSupport

/// The exact response cache on a live gateway: repeats answered without the provider, in
/// either format, whole or streamed; tenants never share; client controls; what is never
/// stored; replicas sharing entries through a real Redis.
@Suite struct ResponseCacheTests {
    static func ask(_ prompt: String, stream: Bool = false, extra: String = "") -> String {
        #"{"model":"gpt-4o-mini","stream":\#(stream),\#(extra)"messages":[{"role":"user","content":"\#(prompt)"}]}"#
    }

    static func content(_ reply: TestHTTPClient.Reply) -> String? {
        ((reply.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
    }

    @Test func aRepeatIsAnsweredFromTheCacheWholeAndStreamed() async throws {
        try await GatewayHarness.run { gateway in
            let first = try await gateway.chat(Self.ask("what is a cache"))
            #expect(first.status == 200 && first.header("X-Tollgate-Cache") == "miss")
            // Key order and whitespace do not matter; `user` does not either.
            let again = try await gateway.chat(#"{ "messages":[{"content":"what is a cache","role":"user"}], "user":"someone", "model":"gpt-4o-mini" }"#)
            #expect(again.status == 200 && again.header("X-Tollgate-Cache") == "exact")
            #expect(again.header("X-Tollgate-Cost-USD") == "0" || again.header("X-Tollgate-Cost-USD") == USD.zero.description)
            #expect(Self.content(again) == Self.content(first) && Self.content(first) == "Echo: what is a cache")
            #expect(gateway.provider.received.count == 1)

            // The same request streamed: a replay of the stored answer, usage chunk when asked.
            let streamed = try await gateway.chat(Self.ask("what is a cache", stream: true, extra: #""stream_options":{"include_usage":true},"#))
            #expect(streamed.header("X-Tollgate-Cache") == "exact")
            let payloads = ssePayloads(streamed.text)
            #expect(payloads.last == "[DONE]")
            let text = payloads.compactMap { payload -> String? in
                guard let json = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { return nil }
                return ((json["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
            }.joined()
            #expect(text == "Echo: what is a cache")
            #expect(payloads.contains { $0.contains(#""finish_reason":"stop""#) } && payloads.contains { $0.contains(#""prompt_tokens""#) })
            #expect(gateway.provider.received.count == 1)

            let original = try await FallbackChainTests.row(gateway, for: first)
            let row = try await FallbackChainTests.row(gateway, for: again)
            #expect(row.cacheStatus == .exact && row.costNanodollars == 0 && row.provider == "cache" && row.attempts == 0)
            // The hit saved what the original answer cost.
            #expect(original.costNanodollars > 0 && row.cacheAvoidedNanodollars == original.costNanodollars && original.cacheAvoidedNanodollars == 0)
        }
    }

    @Test func aStreamedAnswerIsStoredOnceCompleteAndAnthropicRepeatsReplayInTheirFormat() async throws {
        try await GatewayHarness.run { gateway in
            _ = try await gateway.chat(Self.ask("stream me", stream: true))
            let whole = try await gateway.chat(Self.ask("stream me"))
            #expect(whole.header("X-Tollgate-Cache") == "exact" && Self.content(whole) == "Echo: stream me")

            let message = #"{"model":"claude-haiku-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi there"}]}"#
            let first = try await gateway.messages(message)
            #expect(first.header("X-Tollgate-Cache") == "miss")
            let streamed = try await gateway.messages(message.replacingOccurrences(of: #""max_tokens":50,"#, with: #""max_tokens":50,"stream":true,"#))
            #expect(streamed.header("X-Tollgate-Cache") == "exact")
            let events = sseEvents(streamed.text).map { $0.name ?? "" }
            #expect(events.first == "message_start" && events.last == "message_stop")
            #expect(streamed.text.contains("Echo: hi there"))
            // An OpenAI request for the same conversation has its own entry (formats never share).
            let openAI = try await gateway.chat(#"{"model":"claude-haiku-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi there"}]}"#)
            #expect(openAI.header("X-Tollgate-Cache") == "miss")
        }
    }

    @Test func anotherTeamNeverReadsTheEntry() async throws {
        try await GatewayHarness.run { gateway in
            _ = try await gateway.chat(Self.ask("team secret"))
            let (_, other) = try gateway.keyStore.create(name: "other-team", team: "finance")
            let reply = try await gateway.http.send(
                "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(other)"), ("Content-Type", "application/json")],
                body: Data(Self.ask("team secret").utf8)
            )
            #expect(reply.status == 200 && reply.header("X-Tollgate-Cache") == "miss")
            #expect(gateway.provider.received.count == 2)
        }
    }

    @Test func clientControlsAndTheTemperatureBoundary() async throws {
        try await GatewayHarness.run { gateway in
            // no-store: answered, not kept.
            _ = try await gateway.chat(Self.ask("a"), headers: [("Cache-Control", "no-store")])
            #expect(try await gateway.chat(Self.ask("a")).header("X-Tollgate-Cache") == "miss")
            // off: neither read nor stored.
            #expect(try await gateway.chat(Self.ask("a"), headers: [("X-Tollgate-Cache", "off")]).header("X-Tollgate-Cache") == "miss")
            // no-cache and refresh: not read, stored again.
            #expect(try await gateway.chat(Self.ask("a"), headers: [("Cache-Control", "no-cache")]).header("X-Tollgate-Cache") == "miss")
            #expect(try await gateway.chat(Self.ask("a"), headers: [("X-Tollgate-Cache", "refresh")]).header("X-Tollgate-Cache") == "miss")
            #expect(gateway.provider.received.count == 5)
            #expect(try await gateway.chat(Self.ask("a")).header("X-Tollgate-Cache") == "exact")

            // At the default max_temperature (1.0) a request is cached; above it, never.
            _ = try await gateway.chat(Self.ask("t", extra: #""temperature":1.0,"#))
            #expect(try await gateway.chat(Self.ask("t", extra: #""temperature":1,"#)).header("X-Tollgate-Cache") == "exact")
            _ = try await gateway.chat(Self.ask("hot", extra: #""temperature":1.01,"#))
            #expect(try await gateway.chat(Self.ask("hot", extra: #""temperature":1.01,"#)).header("X-Tollgate-Cache") == "miss")
            // Another temperature is another request.
            #expect(try await gateway.chat(Self.ask("t", extra: #""temperature":0.2,"#)).header("X-Tollgate-Cache") == "miss")
        }
    }

    @Test func errorsToolCallsAndCutStreamsAreNeverStored() async throws {
        try await GatewayHarness.run { gateway in
            gateway.provider.setBehavior(.sequence([.error(status: 400, type: "invalid_request_error", code: nil, message: "no"), .normal]), forModel: "gpt-4o-mini")
            #expect(try await gateway.chat(Self.ask("e")).status == 400)
            #expect(try await gateway.chat(Self.ask("e")).header("X-Tollgate-Cache") == "miss")

            gateway.provider.setBehavior(.toolCalls([FakeToolCall(name: "lookup", arguments: "{}")]), forModel: "gpt-4o")
            let tool = #"{"model":"gpt-4o","messages":[{"role":"user","content":"call"}],"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]}"#
            _ = try await gateway.chat(tool)
            #expect(try await gateway.chat(tool).header("X-Tollgate-Cache") == "miss")

            gateway.provider.setBehavior(.cutStream(afterChunks: 2), forModel: "gpt-4o")
            _ = try await gateway.chat(#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"cut"}]}"#)
            gateway.provider.setBehavior(.normal, forModel: "gpt-4o")
            #expect(try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"cut"}]}"#).header("X-Tollgate-Cache") == "miss")
        }
    }

    @Test func replicasShareEntriesThroughRedis() async throws {
        try await RedisServerProcess.withServer { redis in
            let configure = SharedLimitsTests.sharedRedis(redis.url)
            try await GatewayHarness.run(configure: configure) { first in
                try await GatewayHarness.run(configure: configure) { second in
                    _ = try await first.chat(Self.ask("shared"))
                    // Stored in Redis off the request path: ask until the other replica finds it
                    // (no-store, so that its own misses do not fill its in-process cache).
                    var reply: TestHTTPClient.Reply?
                    let shared = await waitUntil {
                        reply = try? await second.chat(Self.ask("shared"), headers: [("Cache-Control", "no-store")])
                        return reply?.header("X-Tollgate-Cache") == "exact"
                    }
                    #expect(shared)
                    #expect(reply.flatMap(Self.content) == "Echo: shared")
                    #expect(first.provider.received.count == 1)
                }
            }
        }
    }

    @Test func withRedisDownTheCacheKeepsServingFromTheProcess() async throws {
        try await RedisServerProcess.withServer { redis in
            try await GatewayHarness.run(configure: SharedLimitsTests.sharedRedis(redis.url, timeout: .milliseconds(300))) { gateway in
                _ = try await gateway.chat(Self.ask("before"))
                redis.pause()
                defer { redis.resume() }
                // Every Redis call now times out: hits and misses alike are answered, never failed.
                #expect(try await gateway.chat(Self.ask("before")).header("X-Tollgate-Cache") == "exact")
                let miss = try await gateway.chat(Self.ask("during"))
                #expect(miss.status == 200 && miss.header("X-Tollgate-Cache") == "miss")
                let hit = try await gateway.chat(Self.ask("during"))
                #expect(hit.status == 200 && hit.header("X-Tollgate-Cache") == "exact" && Self.content(hit) == "Echo: during")
                #expect(gateway.provider.received.count == 2)
            }
        }
    }
}
