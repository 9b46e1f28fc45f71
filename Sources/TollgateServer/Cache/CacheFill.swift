import NIOCore
import TollgateCore

/// Stores a provider's answer under its request's key once the answer is complete and
/// storable (`CachedAnswer`'s rules: plain text, one choice, its own ending).
struct CacheFill: Sendable {
    let cache: ResponseCache
    let plan: CacheLookup.Plan
    let format: CachedAnswer.Format

    func storeWhole(_ body: ByteBuffer, usage: TokenUsage?, cost: USD) {
        guard let answer = CachedAnswer.fromWholeBody(body, format: self.format, usage: usage ?? .zero, cost: cost) else { return }
        self.cache.store(answer, key: self.plan.key, ttl: self.plan.ttl)
    }

    /// `transcript`: the events the client received.
    func storeStream(_ transcript: ByteBuffer, usage: TokenUsage?, cost: USD) {
        guard let answer = CachedAnswer.fromStream(transcript, format: self.format, usage: usage ?? .zero, cost: cost) else { return }
        self.cache.store(answer, key: self.plan.key, ttl: self.plan.ttl)
    }

    /// A stream longer than this is not collected (nor stored): the bound keeps a long
    /// answer from holding twice its size while it streams.
    var transcriptLimit: Int { self.cache.config.maxEntryBytes * 4 }
}
