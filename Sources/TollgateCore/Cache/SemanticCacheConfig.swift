import TollgateEmbedding

/// `tollgate.yaml`'s `cache.semantic:`: the false-hit guard (a fitted preset, optionally with
/// its threshold or coefficients overridden), the store's capacity, its snapshot in the data
/// dir, and how far the embedder may fall behind before lookups are skipped.
public struct SemanticCacheConfig: Sendable, Equatable {
    /// The guard every semantic lookup applies (a route's `cache.threshold` overrides the
    /// threshold only).
    public var guardModel: SemanticGuard
    public var maxEntries: Int
    public var maxBytes: Int
    public var maxEntriesPerPartition: Int
    /// Write the entries to `data_dir/semantic-cache.bin` this often (when changed) and at
    /// shutdown, and load them at start; nil: never (the cache starts empty).
    public var snapshotInterval: Duration?
    /// Questions waiting for the embedder beyond this are looked up exactly only.
    public var maxWaiting: Int

    public init(
        guardModel: SemanticGuard = .strict, maxEntries: Int = 50_000, maxBytes: Int = 128 << 20, maxEntriesPerPartition: Int = 10_000,
        snapshotInterval: Duration? = .seconds(60), maxWaiting: Int = 16
    ) {
        self.guardModel = guardModel
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxEntriesPerPartition = maxEntriesPerPartition
        self.snapshotInterval = snapshotInterval
        self.maxWaiting = maxWaiting
    }
}

extension SemanticCacheConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case guardPreset = "guard"
        case threshold, coefficients
        case minSimilarity = "min_similarity"
        case maxEntries = "max_entries"
        case maxBytes = "max_bytes"
        case maxEntriesPerPartition = "max_entries_per_partition"
        case snapshot
        case snapshotInterval = "snapshot_interval"
        case maxWaiting = "max_waiting"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        switch try container.decodeIfPresent(String.self, forKey: .guardPreset).nonEmpty ?? "strict" {
        case "strict": self.guardModel = .strict
        case "balanced": self.guardModel = .balanced
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .guardPreset, in: container, debugDescription: "unknown guard '\(other)' (strict or balanced)")
        }
        if let threshold = try container.decodeIfPresent(Double.self, forKey: .threshold) {
            guard (0...1).contains(threshold) else {
                throw DecodingError.dataCorruptedError(forKey: .threshold, in: container, debugDescription: "the guard's threshold is a probability, 0 to 1")
            }
            self.guardModel.threshold = threshold
        }
        if let minimum = try container.decodeIfPresent(Float.self, forKey: .minSimilarity) {
            guard (-1...1).contains(minimum) else {
                throw DecodingError.dataCorruptedError(forKey: .minSimilarity, in: container, debugDescription: "a cosine is -1 to 1")
            }
            self.guardModel.minimumSimilarity = minimum
        }
        if let coefficients = try container.decodeIfPresent([String: Double].self, forKey: .coefficients) {
            for (name, value) in coefficients {
                if name == "intercept" {
                    self.guardModel.intercept = value
                } else if let feature = SemanticGuard.Feature(rawValue: name) {
                    self.guardModel.weights[SemanticGuard.Feature.allCases.firstIndex(of: feature)!] = value
                } else {
                    let known = (["intercept"] + SemanticGuard.Feature.allCases.map(\.rawValue)).joined(separator: ", ")
                    throw DecodingError.dataCorruptedError(
                        forKey: .coefficients, in: container, debugDescription: "unknown coefficient '\(name)' (\(known))"
                    )
                }
            }
        }
        func positive(_ key: CodingKeys) throws -> Int? {
            guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return nil }
            guard value > 0 else { throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be positive") }
            return value
        }
        self.maxEntries = try positive(.maxEntries) ?? self.maxEntries
        self.maxBytes = try positive(.maxBytes) ?? self.maxBytes
        self.maxEntriesPerPartition = try positive(.maxEntriesPerPartition) ?? self.maxEntriesPerPartition
        self.maxWaiting = try positive(.maxWaiting) ?? self.maxWaiting
        if let interval = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .snapshotInterval)?.duration {
            guard interval > .zero else {
                throw DecodingError.dataCorruptedError(forKey: .snapshotInterval, in: container, debugDescription: "must be positive")
            }
            self.snapshotInterval = interval
        }
        if try container.decodeIfPresent(Bool.self, forKey: .snapshot) == false { self.snapshotInterval = nil }
    }
}
