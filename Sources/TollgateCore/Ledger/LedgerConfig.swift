import Foundation

/// `ledger:` in tollgate.yaml: where the request ledger lives and how it is written.
public struct LedgerConfig: Sendable, Equatable, Decodable {
    /// The longest flush interval allowed: a crash (even SIGKILL) loses at most this much of
    /// the most recent requests.
    public static let maxFlushInterval: Duration = .milliseconds(50)

    /// Record requests at all. Off only for benchmarks and throwaway set-ups: without the
    /// ledger there are no cost reports, and in-process budgets restart from zero.
    public var enabled: Bool = true
    /// The SQLite file; nil means `<data_dir>/ledger.sqlite`. With `url` it holds only the
    /// rows PostgreSQL could not take yet (`ledger-spill.sqlite` by default).
    public var path: String?
    /// A PostgreSQL ledger shared by replicas (`postgres://...`), which also holds the gateway
    /// keys; nil: SQLite in the data dir.
    public var url: PostgresURL?
    /// How long a recorded row may wait before it is written.
    public var flushInterval: Duration = LedgerConfig.maxFlushInterval
    /// Rows that may wait in memory; when full, recording waits for room (nothing is dropped).
    public var queueCapacity: Int = 100_000
    /// Rows written in one transaction at most; a full batch is written without waiting.
    public var batchSize: Int = 1_000
    /// Keep prompt and response text in the ledger. Off by default: it is the users' data.
    public var storeText: Bool = false

    public init(
        path: String? = nil,
        flushInterval: Duration = LedgerConfig.maxFlushInterval,
        queueCapacity: Int = 100_000,
        batchSize: Int = 1_000,
        storeText: Bool = false
    ) {
        self.path = path
        self.flushInterval = flushInterval
        self.queueCapacity = queueCapacity
        self.batchSize = batchSize
        self.storeText = storeText
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, path, url
        case flushInterval = "flush_interval"
        case queueCapacity = "queue_capacity"
        case batchSize = "batch_size"
        case storeText = "store_text"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        self.path = try container.decodeIfPresent(String.self, forKey: .path).nonEmpty
        if let url = try container.decodeIfPresent(String.self, forKey: .url).nonEmpty {
            do {
                self.url = try PostgresURL(url)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .url, in: container, debugDescription: "url: \(error.reason)")
            }
        }
        if let interval = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .flushInterval) {
            self.flushInterval = interval.duration
        }
        self.queueCapacity = try container.decodeIfPresent(Int.self, forKey: .queueCapacity) ?? self.queueCapacity
        self.batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? self.batchSize
        self.storeText = try container.decodeIfPresent(Bool.self, forKey: .storeText) ?? false

        guard self.flushInterval >= .milliseconds(1), self.flushInterval <= Self.maxFlushInterval else {
            throw DecodingError.dataCorruptedError(
                forKey: .flushInterval, in: container,
                debugDescription: "flush_interval must be between 1ms and 50ms (a crash loses at most this much of the ledger)"
            )
        }
        guard (1...10_000_000).contains(self.queueCapacity) else {
            throw DecodingError.dataCorruptedError(
                forKey: .queueCapacity, in: container, debugDescription: "queue_capacity must be between 1 and 10000000"
            )
        }
        guard (1...100_000).contains(self.batchSize) else {
            throw DecodingError.dataCorruptedError(
                forKey: .batchSize, in: container, debugDescription: "batch_size must be between 1 and 100000"
            )
        }
    }

    /// The ledger file for a gateway whose data dir is `dataDirectory` (the spill file with `url`).
    public func resolvedPath(dataDirectory: String) -> String {
        self.path ?? (dataDirectory as NSString).appendingPathComponent(self.url == nil ? "ledger.sqlite" : "ledger-spill.sqlite")
    }
}
