/// `tollgate.yaml`'s `cache:`: the response cache's mode and sizes. Routes refine it
/// (`cache:` per route: on or off, semantic or not, scope, TTL, highest temperature).
public struct CacheConfig: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable {
        case off
        /// Exact repeats of a request are answered from the cache.
        case exact
        /// Exact repeats, and on routes that allow it, questions the semantic cache's guard
        /// judges to have the same answer as a stored one.
        case semantic
    }

    /// `mode`, from `${TOLLGATE_CACHE_MODE:-exact}` in the shipped file.
    public var mode: Mode
    /// The in-process cache's bound on the answers it holds.
    public var maxBytes: Int
    /// Larger answers are not stored.
    public var maxEntryBytes: Int
    /// How long an answer is served when its route does not say.
    public var ttl: Duration
    /// Share entries through Redis when `stores.redis_url` is set (replicas share hits, a
    /// restart keeps them).
    public var redis: Bool
    /// The semantic cache's guard, sizes and snapshot (used in mode `semantic`).
    public var semantic: SemanticCacheConfig

    public init(
        mode: Mode = .exact, maxBytes: Int = 256 << 20, maxEntryBytes: Int = 1 << 20, ttl: Duration = .seconds(3600), redis: Bool = true,
        semantic: SemanticCacheConfig = SemanticCacheConfig()
    ) {
        self.mode = mode
        self.maxBytes = maxBytes
        self.maxEntryBytes = maxEntryBytes
        self.ttl = ttl
        self.redis = redis
        self.semantic = semantic
    }
}

extension CacheConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, ttl, redis, semantic
        case maxBytes = "max_bytes"
        case maxEntryBytes = "max_entry_bytes"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        switch try container.decodeIfPresent(String.self, forKey: .mode).nonEmpty ?? "exact" {
        case "off": self.mode = .off
        case "exact": self.mode = .exact
        case "semantic": self.mode = .semantic
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .mode, in: container, debugDescription: "unknown mode '\(other)' (off, exact or semantic)")
        }
        func bytes(_ key: CodingKeys) throws -> Int? {
            guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return nil }
            guard value > 0 else { throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be a positive number of bytes") }
            return value
        }
        self.maxBytes = try bytes(.maxBytes) ?? self.maxBytes
        self.maxEntryBytes = try bytes(.maxEntryBytes) ?? self.maxEntryBytes
        if let ttl = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .ttl)?.duration {
            guard ttl > .zero else { throw DecodingError.dataCorruptedError(forKey: .ttl, in: container, debugDescription: "must be positive") }
            self.ttl = ttl
        }
        self.redis = try container.decodeIfPresent(Bool.self, forKey: .redis) ?? true
        self.semantic = try container.decodeIfPresent(SemanticCacheConfig.self, forKey: .semantic) ?? SemanticCacheConfig()
    }
}
