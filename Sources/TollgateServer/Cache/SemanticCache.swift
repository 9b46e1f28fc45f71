import Foundation
import Logging
import Metrics
import NIOCore
import TollgateCore
import TollgateEmbedding

/// The semantic cache: questions embedded in process (`LocalEmbedder`, off the event loops,
/// token vectors kept for the guard), searched among the entries of their partition by
/// `SemanticStore` and served only when `SemanticGuard` says the stored answer answers them.
/// Entries are snapshotted to the data dir so a restart warms from them.
final class SemanticCache: Sendable {
    /// A question ready for the store: its sentence vector and what the guard keeps of it.
    struct Embedded: Sendable {
        var vector: [Float]
        var profile: QuestionProfile
    }

    struct Hit: Sendable {
        var answer: CachedAnswer
        var similarity: Float
    }

    let config: SemanticCacheConfig
    private let store: SemanticStore
    private let embedder: LocalEmbedder
    let snapshotPath: String?
    private let logger: Logger
    private let entries = Gauge(label: "tollgate_semantic_cache_entries")
    private let bytes = Gauge(label: "tollgate_semantic_cache_bytes")
    private let evictions = Gauge(label: "tollgate_semantic_cache_evictions")
    private let lookupTimer = Timer(label: "tollgate_semantic_cache_lookup_seconds")
    private let skipped = Counter(label: "tollgate_semantic_cache_skipped_total", dimensions: [("reason", "embedder_busy")])

    init(config: SemanticCacheConfig, embedder: LocalEmbedder, snapshotPath: String?, logger: Logger) {
        self.config = config
        self.embedder = embedder
        self.snapshotPath = snapshotPath
        self.logger = logger
        self.store = SemanticStore(
            dimensions: embedder.dimensions,
            limits: .init(maxEntries: config.maxEntries, maxBytes: config.maxBytes, maxEntriesPerPartition: config.maxEntriesPerPartition)
        )
        guard let snapshotPath else { return }
        do {
            let loaded = try self.store.load(from: snapshotPath)
            if loaded > 0 { logger.info("semantic cache warmed from its snapshot", metadata: ["entries": "\(loaded)", "path": "\(snapshotPath)"]) }
        } catch {
            logger.warning("semantic cache snapshot not loaded; starting empty", metadata: ["path": "\(snapshotPath)", "error": "\(error)"])
        }
    }

    /// The question's vector and profile, or nil when the embedder is saturated (the lookup is
    /// skipped: a miss, never a longer queue) or fails.
    func embed(_ question: String) async -> Embedded? {
        do {
            let batch = try await self.embedder.embed([question], keepingTokenVectors: true, maxWaiting: self.config.maxWaiting)
            return Embedded(vector: batch.vectors[0], profile: QuestionProfile(text: question, tokenVectors: batch.tokenVectors![0]))
        } catch is EmbedderSaturated {
            self.skipped.increment()
            return nil
        } catch {
            self.logger.debug("semantic cache: the question was not embedded", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The stored answer of `partition` the guard lets answer `question` (with `threshold`
    /// instead of the configured one when a route sets it).
    func lookup(partition: CacheKey, question: Embedded, threshold: Double?) async -> Hit? {
        let start = ContinuousClock.now
        defer { self.lookupTimer.recordNanoseconds((ContinuousClock.now - start).nanoseconds) }
        var guardModel = self.config.guardModel
        if let threshold { guardModel.threshold = threshold }
        guard let hit = await self.store.search(partition: partition.hex, vector: question.vector, profile: question.profile, guard: guardModel),
            let answer = CachedAnswer(encoded: hit.payload)
        else { return nil }
        return Hit(answer: answer, similarity: hit.similarity)
    }

    func store(_ answer: CachedAnswer, partition: CacheKey, question: Embedded, ttl: Duration) {
        let payload = Array(answer.encoded().readableBytesView)
        let expiry = Date().timeIntervalSince1970 + Double(ttl.components.seconds)
        self.store.insert(partition: partition.hex, vector: question.vector, profile: question.profile, payload: payload, expiry: expiry)
    }

    /// Publishes the store's size as metrics; returns its count of changes so far.
    @discardableResult
    func recordStatistics() -> Int {
        let statistics = self.store.statistics
        self.entries.record(statistics.entries)
        self.bytes.record(statistics.bytes)
        self.evictions.record(statistics.evictions)
        return statistics.changes
    }

    var statistics: SemanticStore.Statistics { self.store.statistics }

    /// Writes the snapshot (when one is configured); returns the entries written.
    @discardableResult
    func saveSnapshot() async throws -> Int {
        guard let snapshotPath else { return 0 }
        return try await self.store.snapshot(to: snapshotPath)
    }

    func shutdown() { self.store.shutdown() }
}
