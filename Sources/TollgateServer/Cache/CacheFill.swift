import NIOCore
import TollgateCore

/// Stores a provider's answer under its request's keys once the answer is complete and
/// storable (`CachedAnswer`'s rules: plain text, one choice, its own ending): the exact key,
/// and the semantic cache's partition with the question the lookup embedded (none when the
/// embedder was saturated: then only the exact entry).
struct CacheFill: Sendable {
    let cache: ResponseCache
    let semantic: SemanticCache?
    let plan: CacheLookup.Plan
    let format: CachedAnswer.Format

    func storeWhole(_ body: ByteBuffer, usage: TokenUsage?, cost: USD) {
        guard let answer = CachedAnswer.fromWholeBody(body, format: self.format, usage: usage ?? .zero, cost: cost) else { return }
        self.store(answer)
    }

    /// `transcript`: the events the client received.
    func storeStream(_ transcript: ByteBuffer, usage: TokenUsage?, cost: USD) {
        guard let answer = CachedAnswer.fromStream(transcript, format: self.format, usage: usage ?? .zero, cost: cost) else { return }
        self.store(answer)
    }

    private func store(_ answer: CachedAnswer) {
        if self.plan.exact { self.cache.store(answer, key: self.plan.key, ttl: self.plan.ttl) }
        guard let semantic = self.semantic, let question = self.plan.semantic, let embedded = question.embedded,
            answer.byteSize <= self.cache.config.maxEntryBytes
        else { return }
        semantic.store(answer, partition: question.partition, question: embedded, ttl: self.plan.ttl)
    }

    /// A stream longer than this is not collected (nor stored): the bound keeps a long
    /// answer from holding twice its size while it streams.
    var transcriptLimit: Int { self.cache.config.maxEntryBytes * 4 }
}
