import Foundation

/// `tollgate.yaml`: where the gateway listens, which providers it can call, which models
/// each provider serves, and where its state lives.
public struct GatewayConfig: Sendable, Equatable {
    public var server: ServerConfig
    public var dataDirectory: String
    public var adminKey: String?
    /// When set, `GET /metrics` wants `Authorization: Bearer <token>` (it exports spend).
    public var metricsToken: String?
    public var logging: LoggingConfig
    public var providers: [String: ProviderConfig]
    public var models: [ModelMapping]
    public var stores: StoresConfig
    public var embeddings: EmbeddingsConfig
    public var budgetsDirectory: String
    public var routesDirectory: String
    /// Mustache templates for `template:` fallbacks and the trimmed-context note (`prompts_dir`).
    public var promptsDirectory: String
    /// When a deployment's circuit opens and closes again (`circuit_breaker:`).
    public var circuitBreaker: CircuitBreaker.Policy
    public var translation: TranslationConfig
    /// The request ledger (`ledger:`).
    public var ledger: LedgerConfig
    /// The response cache (`cache:`).
    public var cache: CacheConfig
    /// OpenTelemetry traces (`telemetry:`).
    public var telemetry: TelemetryConfig = .init()
    /// The zone the gateway's days are counted in (reports, daily budgets, routing's
    /// `hour` and `weekday`): `time_zone`, an IANA name; default the process's local zone.
    public var timeZone: TimeZone

    public init(
        server: ServerConfig = .init(),
        dataDirectory: String = "data",
        adminKey: String? = nil,
        logging: LoggingConfig = .init(),
        providers: [String: ProviderConfig] = [:],
        models: [ModelMapping] = [],
        stores: StoresConfig = .init(),
        embeddings: EmbeddingsConfig = .init(),
        budgetsDirectory: String = "budgets",
        routesDirectory: String = "routes",
        promptsDirectory: String = "prompts",
        circuitBreaker: CircuitBreaker.Policy = .init(),
        translation: TranslationConfig = .init(),
        ledger: LedgerConfig = .init(),
        cache: CacheConfig = .init(),
        timeZone: TimeZone = .current
    ) {
        self.server = server
        self.dataDirectory = dataDirectory
        self.adminKey = adminKey
        self.logging = logging
        self.providers = providers
        self.models = models
        self.stores = stores
        self.embeddings = embeddings
        self.budgetsDirectory = budgetsDirectory
        self.routesDirectory = routesDirectory
        self.promptsDirectory = promptsDirectory
        self.circuitBreaker = circuitBreaker
        self.translation = translation
        self.ledger = ledger
        self.cache = cache
        self.timeZone = timeZone
    }

    /// The ledger's SQLite file: `ledger.path`, or `ledger.sqlite` in the data dir.
    public var ledgerPath: String { self.ledger.resolvedPath(dataDirectory: self.dataDirectory) }
}

extension GatewayConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case server, logging, providers, models, stores, embeddings, translation
        case dataDirectory = "data_dir"
        case adminKey = "admin_key"
        case metricsToken = "metrics_token"
        case budgetsDirectory = "budgets_dir"
        case routesDirectory = "routes_dir"
        case promptsDirectory = "prompts_dir"
        case circuitBreaker = "circuit_breaker"
        case ledger, cache, telemetry
        case timeZone = "time_zone"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.server = try container.decodeIfPresent(ServerConfig.self, forKey: .server) ?? .init()
        self.dataDirectory = try container.decodeIfPresent(String.self, forKey: .dataDirectory).nonEmpty ?? "data"
        self.adminKey = try container.decodeIfPresent(String.self, forKey: .adminKey).nonEmpty
        self.metricsToken = try container.decodeIfPresent(String.self, forKey: .metricsToken).nonEmpty
        self.logging = try container.decodeIfPresent(LoggingConfig.self, forKey: .logging) ?? .init()
        self.providers = try container.decodeIfPresent([String: ProviderConfig].self, forKey: .providers) ?? [:]
        self.models = try container.decodeIfPresent([ModelMapping].self, forKey: .models) ?? []
        self.stores = try container.decodeIfPresent(StoresConfig.self, forKey: .stores) ?? .init()
        self.embeddings = try container.decodeIfPresent(EmbeddingsConfig.self, forKey: .embeddings) ?? .init()
        self.budgetsDirectory = try container.decodeIfPresent(String.self, forKey: .budgetsDirectory).nonEmpty ?? "budgets"
        self.routesDirectory = try container.decodeIfPresent(String.self, forKey: .routesDirectory).nonEmpty ?? "routes"
        self.promptsDirectory = try container.decodeIfPresent(String.self, forKey: .promptsDirectory).nonEmpty ?? "prompts"
        self.circuitBreaker = try container.decodeIfPresent(CircuitBreaker.Policy.self, forKey: .circuitBreaker) ?? .init()
        self.translation = try container.decodeIfPresent(TranslationConfig.self, forKey: .translation) ?? .init()
        self.ledger = try container.decodeIfPresent(LedgerConfig.self, forKey: .ledger) ?? .init()
        self.cache = try container.decodeIfPresent(CacheConfig.self, forKey: .cache) ?? .init()
        self.telemetry = try container.decodeIfPresent(TelemetryConfig.self, forKey: .telemetry) ?? .init()
        if let zone = try container.decodeIfPresent(String.self, forKey: .timeZone).nonEmpty {
            guard let timeZone = TimeZone(identifier: zone) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .timeZone, in: container,
                    debugDescription: "unknown time zone '\(zone)' (use an IANA name such as UTC or Europe/Berlin)"
                )
            }
            self.timeZone = timeZone
        } else {
            self.timeZone = .current
        }

        for (index, mapping) in self.models.enumerated() where self.providers[mapping.provider] == nil {
            let known = self.providers.keys.sorted().joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath + [CodingKeys.models, JSONKey("Index \(index)"), JSONKey("provider")],
                debugDescription: "unknown provider '\(mapping.provider)' (declared providers: \(known.isEmpty ? "none" : known))"
            ))
        }
        for (index, mapping) in self.models.enumerated() where mapping.kind == .embedding && self.providers[mapping.provider]?.kind == .anthropic {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath + [CodingKeys.models, JSONKey("Index \(index)"), JSONKey("kind")],
                debugDescription: "the anthropic provider '\(mapping.provider)' does not serve embeddings"
            ))
        }
    }
}

/// How requests are translated when the client's format and the provider's differ.
public struct TranslationConfig: Sendable, Equatable, Decodable {
    /// Drop parameters the provider's format has no equivalent for (logged) instead of
    /// answering 400 naming them.
    public var dropUnsupported = false
    /// `max_tokens` sent to Anthropic when an OpenAI request has none (Anthropic requires it).
    public var defaultMaxTokens = 4096

    public init(dropUnsupported: Bool = false, defaultMaxTokens: Int = 4096) {
        self.dropUnsupported = dropUnsupported
        self.defaultMaxTokens = defaultMaxTokens
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dropUnsupported = "drop_unsupported"
        case defaultMaxTokens = "default_max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.dropUnsupported = try container.decodeIfPresent(Bool.self, forKey: .dropUnsupported) ?? false
        self.defaultMaxTokens = try container.decodeIfPresent(Int.self, forKey: .defaultMaxTokens) ?? 4096
        guard self.defaultMaxTokens >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .defaultMaxTokens, in: container, debugDescription: "must be at least 1")
        }
    }

    /// The options for translating a request to `provider`.
    public func options(for provider: String) -> TranslationOptions {
        TranslationOptions(dropUnsupported: self.dropUnsupported, defaultMaxTokens: self.defaultMaxTokens, providerName: provider)
    }
}

/// Listener and request handling limits.
public struct ServerConfig: Sendable, Equatable, Decodable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes: Int = 8 * 1024 * 1024
    /// How long SIGTERM waits for in-flight requests and streams before the process exits.
    public var shutdownGracePeriod: Duration = .seconds(30)
    /// A connection that sends nothing for this long is closed: before its request's head is
    /// complete (a slow or half-sent header), between body parts (a stalled body), and between
    /// requests (keep-alive). Never while its answer is being produced or streamed.
    public var idleTimeout: Duration = .seconds(30)
    /// Open client connections beyond this are closed at once, so that idle sockets cannot use
    /// up the process's file descriptors (upstream, Redis, SQLite need theirs). Nil: the
    /// file-descriptor limit less a reserve (``ConnectionLimit``).
    public var maxConnections: Int?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port
        case maxBodyBytes = "max_body_bytes"
        case shutdownGracePeriod = "shutdown_grace_period"
        case idleTimeout = "idle_timeout"
        case maxConnections = "max_connections"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.host = try container.decodeIfPresent(String.self, forKey: .host).nonEmpty ?? self.host
        self.port = try container.decodeIfPresent(Int.self, forKey: .port) ?? self.port
        self.maxBodyBytes = try container.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? self.maxBodyBytes
        if let grace = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .shutdownGracePeriod) {
            self.shutdownGracePeriod = grace.duration
        }
        if let idle = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .idleTimeout)?.duration {
            guard idle > .zero else {
                throw DecodingError.dataCorruptedError(forKey: .idleTimeout, in: container, debugDescription: "idle_timeout must be positive")
            }
            self.idleTimeout = idle
        }
        self.maxConnections = try container.decodeIfPresent(Int.self, forKey: .maxConnections)
        if let maxConnections, maxConnections < 1 {
            throw DecodingError.dataCorruptedError(forKey: .maxConnections, in: container, debugDescription: "max_connections must be at least 1")
        }
        guard (0...65535).contains(self.port) else {
            throw DecodingError.dataCorruptedError(forKey: .port, in: container, debugDescription: "port must be between 0 and 65535")
        }
        guard self.maxBodyBytes >= 1024 else {
            throw DecodingError.dataCorruptedError(
                forKey: .maxBodyBytes, in: container, debugDescription: "max_body_bytes must be at least 1024"
            )
        }
    }
}

public struct LoggingConfig: Sendable, Equatable, Decodable {
    public enum Format: String, Sendable, Decodable { case json, text }
    public var level: String = "info"
    public var format: Format = .json

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case level, format }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let level = try container.decodeIfPresent(String.self, forKey: .level).nonEmpty ?? "info"
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(level) else {
            throw DecodingError.dataCorruptedError(
                forKey: .level, in: container,
                debugDescription: "unknown level '\(level)' (one of \(levels.joined(separator: ", ")))"
            )
        }
        self.level = level
        self.format = try container.decodeIfPresent(Format.self, forKey: .format) ?? .json
    }
}

/// Shared state. No Redis URL: limits, budgets and caches stay in process.
public struct StoresConfig: Sendable, Equatable, Decodable {
    /// What the gateway does while Redis is unreachable.
    public enum FailureMode: String, Sendable, Equatable, Decodable {
        /// Enforce limits and budgets per process meanwhile (a metric and a loud log line).
        case open
        /// Refuse requests with 503 until Redis is back.
        case closed
    }

    public var redisURL: String?
    public var redisFailureMode: FailureMode = .open
    /// The longest a request waits on Redis before the failure mode applies.
    public var redisTimeout: Duration = .milliseconds(250)
    /// Connections to Redis, each pipelining every concurrent request's command.
    public var redisConnections: Int = 2

    public init(redisURL: String? = nil) { self.redisURL = redisURL }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case redisURL = "redis_url"
        case redisFailureMode = "redis_failure_mode"
        case redisTimeout = "redis_timeout"
        case redisConnections = "redis_connections"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.redisURL = try container.decodeIfPresent(String.self, forKey: .redisURL).nonEmpty
        self.redisFailureMode = try container.decodeIfPresent(FailureMode.self, forKey: .redisFailureMode) ?? .open
        if let timeout = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .redisTimeout) {
            self.redisTimeout = timeout.duration
        }
        if let connections = try container.decodeIfPresent(Int.self, forKey: .redisConnections) {
            guard (1...64).contains(connections) else {
                throw DecodingError.dataCorruptedError(forKey: .redisConnections, in: container, debugDescription: "must be between 1 and 64")
            }
            self.redisConnections = connections
        }
    }
}

/// The built-in embedding model.
public struct EmbeddingsConfig: Sendable, Equatable, Decodable {
    /// The model name clients send to get the in-process model.
    public var localModelName: String = "local/all-MiniLM-L6-v2"
    public var modelDirectory: String = "models/all-MiniLM-L6-v2"
    public var threads: Int = 1

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case localModelName = "local_model"
        case modelDirectory = "model_dir"
        case threads
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.localModelName = try container.decodeIfPresent(String.self, forKey: .localModelName).nonEmpty ?? self.localModelName
        self.modelDirectory = try container.decodeIfPresent(String.self, forKey: .modelDirectory).nonEmpty ?? self.modelDirectory
        self.threads = try container.decodeIfPresent(Int.self, forKey: .threads) ?? 1
        guard (1...64).contains(self.threads) else {
            throw DecodingError.dataCorruptedError(forKey: .threads, in: container, debugDescription: "threads must be between 1 and 64")
        }
    }
}

extension Optional where Wrapped == String {
    /// Treats an empty string (an unset `${VAR}`) like an absent value.
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
