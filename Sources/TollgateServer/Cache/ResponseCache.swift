import Logging
import Metrics
import NIOCore
import TollgateCore
import TollgateRedis

/// The exact response cache: an in-process LRU bounded in bytes (L1) in front of Redis (L2,
/// when configured), so replicas share answers and a restart keeps them. Redis is asked
/// only on an L1 miss, within the client's command timeout (`stores.redis_timeout`); when
/// it fails the cache is L1 only and the request goes on as a miss.
final class ResponseCache: Sendable {
    static let keyPrefix = "tollgate:cache:"

    let config: CacheConfig
    private let local: LRUCache<String, CachedAnswer>
    private let redis: RedisClient?
    private let logger: Logger
    private let entries = Gauge(label: "tollgate_cache_entries")
    private let bytes = Gauge(label: "tollgate_cache_bytes")
    private let evictions = Gauge(label: "tollgate_cache_evictions")
    private let lookupTimer = Timer(label: "tollgate_cache_lookup_seconds")

    init(config: CacheConfig, redis: RedisClient?, logger: Logger) {
        self.config = config
        self.local = LRUCache(maxBytes: config.maxBytes)
        self.redis = config.redis ? redis : nil
        self.logger = logger
    }

    func lookup(_ key: CacheKey) async -> CachedAnswer? {
        let start = ContinuousClock.now
        defer { self.lookupTimer.recordNanoseconds((ContinuousClock.now - start).nanoseconds) }
        if let answer = self.local.value(for: key.hex) { return answer }
        guard let redis = self.redis else { return nil }
        do {
            let reply = try await redis.send(["GET", Self.keyPrefix + key.hex])
            guard let bytes = reply.bytesValue, let answer = CachedAnswer(encoded: bytes) else { return nil }
            // Kept locally for the rest of an L1 lifetime: Redis holds the authoritative expiry.
            self.local.set(answer, for: key.hex, bytes: answer.byteSize, ttl: self.config.ttl)
            return answer
        } catch {
            self.logger.debug("cache lookup in Redis failed; a miss", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Stores `answer` for `ttl` in L1 at once and in Redis off the request path.
    func store(_ answer: CachedAnswer, key: CacheKey, ttl: Duration) {
        let size = answer.byteSize
        guard size <= self.config.maxEntryBytes else { return }
        self.local.set(answer, for: key.hex, bytes: size, ttl: ttl)
        let statistics = self.local.statistics
        self.entries.record(statistics.entries)
        self.bytes.record(statistics.bytes)
        self.evictions.record(statistics.evictions)
        guard let redis = self.redis else { return }
        let encoded = answer.encoded()
        let logger = self.logger
        Task {
            do {
                _ = try await redis.send(bytes: [Array("SET".utf8), Array((Self.keyPrefix + key.hex).utf8), Array(encoded.readableBytesView),
                    Array("PX".utf8), Array(String(max(1, ttl.milliseconds)).utf8)])
            } catch {
                logger.debug("cache store in Redis failed; kept in process only", metadata: ["error": "\(error)"])
            }
        }
    }
}
