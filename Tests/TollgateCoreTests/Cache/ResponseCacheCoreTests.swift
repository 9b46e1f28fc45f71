import Foundation
import NIOCore
import Testing
import TollgateEmbedding
@testable import TollgateCore

/// The cache's pure parts: canonical keys, the LRU, what answers may be stored, the stored form.
@Suite struct ResponseCacheCoreTests {
    static func key(_ json: String, model: String = "gpt-4o-mini", scope: String = "team:qa", format: CachedAnswer.Format = .openAI) -> CacheKey? {
        CacheKey(body: ByteBuffer(string: json), format: format, servedModel: model, outputCap: nil, scope: scope)
    }

    @Test func keysIgnoreOrderWhitespaceAndFieldsThatDoNotChangeTheAnswer() throws {
        let base = try #require(Self.key(#"{"model":"auto","temperature":1,"messages":[{"role":"user","content":"hi"}]}"#))
        #expect(Self.key(#"{ "messages": [ {"content":"hi", "role":"user"} ], "temperature": 1.0, "model":"auto", "user":"u", "stream":true, "stream_options":{"include_usage":true}, "metadata":{"a":"b"} }"#) == base)
        #expect(Self.key(#"{"model":"auto","temperature":0.5,"messages":[{"role":"user","content":"hi"}]}"#) != base)
        #expect(Self.key(#"{"model":"auto","temperature":1,"messages":[{"role":"user","content":"hi!"}]}"#) != base)
        #expect(Self.key(#"{"model":"auto","temperature":1,"messages":[{"role":"user","content":"hi"}]}"#, model: "gpt-4o") != base)
        #expect(Self.key(#"{"model":"auto","temperature":1,"messages":[{"role":"user","content":"hi"}]}"#, scope: "team:finance") != base)
        #expect(Self.key(#"{"model":"auto","temperature":1,"messages":[{"role":"user","content":"hi"}]}"#, format: .anthropic) != base)
        #expect(Self.key("[1]") == nil && base.hex.count == 64)
    }

    @Test func theLRUEvictsTheLeastRecentlyUsedAndExpires() {
        let clock = ManualInstant(.now)
        let cache = LRUCache<String, Int>(maxBytes: 30, now: { clock.now })
        cache.set(1, for: "a", bytes: 10, ttl: .seconds(60))
        cache.set(2, for: "b", bytes: 10, ttl: .seconds(60))
        cache.set(3, for: "c", bytes: 10, ttl: .seconds(5))
        #expect(cache.value(for: "a") == 1)  // now b is the least recent
        cache.set(4, for: "d", bytes: 10, ttl: .seconds(60))
        #expect(cache.value(for: "b") == nil && cache.value(for: "a") == 1 && cache.value(for: "d") == 4)
        clock.advance(.seconds(6))
        #expect(cache.value(for: "c") == nil)
        cache.set(5, for: "too-big", bytes: 31, ttl: .seconds(60))
        #expect(cache.value(for: "too-big") == nil)
        #expect(cache.statistics.entries == 2 && cache.statistics.bytes == 20 && cache.statistics.evictions == 1)
    }

    @Test func onlyCompletePlainTextAnswersAreStoredAndTheyRoundTrip() throws {
        let usage = TokenUsage(inputTokens: 10, outputTokens: 3)
        let whole = #"{"id":"x","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hello","refusal":null},"finish_reason":"stop"}]}"#
        let answer = try #require(CachedAnswer.fromWholeBody(ByteBuffer(string: whole), format: .openAI, usage: usage, cost: USD(nanos: 42)))
        #expect(answer.text == "hello" && answer.finishReason == "stop")
        #expect(CachedAnswer(encoded: Array(answer.encoded().readableBytesView)) == answer)
        let filtered = whole.replacingOccurrences(of: #""finish_reason":"stop""#, with: #""finish_reason":"content_filter""#)
        #expect(CachedAnswer.fromWholeBody(ByteBuffer(string: filtered), format: .openAI, usage: usage, cost: .zero) == nil)
        let two = whole.replacingOccurrences(of: "}]}", with: #"},{"index":1,"message":{"content":"b"},"finish_reason":"stop"}]}"#)
        #expect(CachedAnswer.fromWholeBody(ByteBuffer(string: two), format: .openAI, usage: usage, cost: .zero) == nil)

        // A stream: complete only with its end; its replay is the same events' text.
        let replay = SyntheticAnswer(text: "streamed text", model: "m", usage: usage).openAIStream(includeUsage: false)
        let streamed = try #require(CachedAnswer.fromStream(replay, format: .openAI, usage: usage, cost: .zero))
        #expect(streamed.text == "streamed text" && streamed.model == "m")
        var cut = replay
        cut.moveWriterIndex(to: cut.writerIndex - 14)  // "data: [DONE]\n\n" gone
        #expect(CachedAnswer.fromStream(cut, format: .openAI, usage: usage, cost: .zero) == nil)
        let anthropic = SyntheticAnswer(text: "bonjour", model: "claude", anthropicStopReason: "stop_sequence", stopSequence: "###").anthropicStream()
        let kept = try #require(CachedAnswer.fromStream(anthropic, format: .anthropic, usage: usage, cost: .zero))
        #expect(kept.text == "bonjour" && kept.finishReason == "stop_sequence" && kept.stopSequence == "###")
    }

    @Test func cacheSettingsLoadAndBadOnesAreRefused() throws {
        #expect(try ConfigLoader.decode(CacheConfig.self, yaml: "mode: off\nttl: 10m\n", file: "t.yaml", environment: [:]) == CacheConfig(mode: .off, ttl: .seconds(600)))
        let semantic = try ConfigLoader.decode(CacheConfig.self, yaml: """
            mode: semantic
            semantic:
              guard: balanced
              threshold: 0.9
              min_similarity: 0.85
              coefficients: { intercept: -3, word_order: -2 }
              max_entries: 10
              snapshot: false
            """, file: "t.yaml", environment: [:])
        #expect(semantic.mode == .semantic && semantic.semantic.maxEntries == 10 && semantic.semantic.snapshotInterval == nil)
        let guardModel = semantic.semantic.guardModel
        #expect(guardModel.threshold == 0.9 && guardModel.minimumSimilarity == 0.85 && guardModel.intercept == -3)
        #expect(guardModel.weights.last == -2 && guardModel.weights.first == SemanticGuard.balanced.weights.first)
        for bad in [
            "mode: fuzzy\n", "max_bytes: 0\n", "semantic: { guard: loose }\n", "semantic: { threshold: 2 }\n",
            "semantic: { coefficients: { colour: 1 } }\n", "semantic: { max_waiting: 0 }\n", "semantic: { snapshot_interval: 0s }\n",
        ] {
            #expect(throws: ConfigError.self, "\(bad)") { try ConfigLoader.decode(CacheConfig.self, yaml: bad, file: "t.yaml", environment: [:]) }
        }
    }
}
