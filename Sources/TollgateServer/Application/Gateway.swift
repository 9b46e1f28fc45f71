import Foundation
import Logging
import ServiceLifecycle
import TollgateCore
import TollgateEmbedding
import TollgateRedis
import TollgateUpstream

/// Everything a request handler needs, built once at start-up from the configuration.
public final class Gateway: Sendable {
    public let config: GatewayConfig
    let providers: ProviderRegistry
    let keys: KeyRegistry
    let keyStore: KeyStore
    let upstream: UpstreamClient
    let metrics: GatewayMetrics
    let logger: Logger
    let embedder: LocalEmbedderSlot
    let modelCatalog: ModelCatalog
    let routing: RoutingTable
    /// Per-deployment circuit breakers the fallback chain consults and feeds.
    let breakers: CircuitBreakers
    let fallbackMetrics: FallbackMetrics
    let costs: CostControl
    /// Budget alerts to a webhook (`budgets/alerts.yaml`).
    let alerts: AlertsConfig
    /// The shared store of limits and budgets, when `stores.redis_url` is set.
    let redis: RedisClient?
    /// Puts this replica's spend back into Redis when Redis lost it (with `redis`).
    let budgetReseeder: BudgetReseeder?
    /// The exact response cache; nil when `cache.mode` is `off`.
    let cache: ResponseCache?
    /// The semantic cache; nil unless `cache.mode` is `semantic`.
    let semanticCache: SemanticCache?
    /// BPE token counters for `prompt_tokens`; nil when the rank files are missing, and the
    /// features then fall back to the byte-length estimate.
    let tokenizers: Tokenizers?
    /// The zone request features read the hour and weekday in, and reports their days in.
    let timeZone: TimeZone
    /// The request ledger to read; nil when `ledger.enabled` is false.
    let ledgerStore: (any LedgerStore)?
    /// The PostgreSQL ledger (and key store), with `ledger.url`: a service to run.
    let postgresLedger: PostgresLedger?
    let ledger: LedgerWriter?
    /// OpenTelemetry traces and the service exporting them; nil without an OTLP endpoint.
    let tracing: GatewayTracing?
    let tracingService: (any Service)?
    let providerHeaders: [String: (withBody: [(name: String, value: String)], withoutBody: [(name: String, value: String)])]

    public init(
        config: GatewayConfig,
        environment: [String: String],
        upstream: UpstreamClient,
        logger: Logger
    ) throws {
        // Metrics made before swift-metrics is bootstrapped go nowhere for good (the spend
        // counter, the cache gauges...): bootstrap before any part is built.
        _ = GatewayMetrics.prometheusRegistry
        self.config = config
        self.timeZone = config.timeZone
        let tracing = try GatewayTracing.make(config, environment: environment, logger: logger)
        self.tracing = tracing?.0
        self.tracingService = tracing?.1
        let postgres = try config.ledger.url.map { url in
            try PostgresLedger(url: url, spillPath: config.ledgerPath, logger: logger)
        }
        self.postgresLedger = postgres
        if !config.ledger.enabled {
            self.ledgerStore = nil
            self.ledger = nil
            logger.warning("the request ledger is disabled (ledger.enabled: false): no cost reports, and budgets restart from zero")
        } else if let postgres {
            self.ledgerStore = postgres
            self.ledger = LedgerWriter(postgres: postgres, configuration: .init(config.ledger), logger: logger)
        } else {
            let database = try LedgerDatabase(path: config.ledgerPath)
            self.ledgerStore = database
            self.ledger = LedgerWriter(database: database, configuration: .init(config.ledger), logger: logger)
        }
        self.providers = ProviderRegistry(config: config, environment: environment)
        self.keyStore = try postgres.map(KeyStore.init(postgres:)) ?? KeyStore(directory: config.dataDirectory)
        let declared = try DeclaredKeysFile.load(budgetsDirectory: config.budgetsDirectory, environment: environment)
        self.keys = KeyRegistry(declared: declared, store: self.keyStore)
        let limits = try LimitsConfig.load(budgetsDirectory: config.budgetsDirectory, environment: environment)
        self.alerts = try AlertsConfig.load(budgetsDirectory: config.budgetsDirectory, environment: environment)
        if self.alerts.webhookURL != nil, !config.ledger.enabled {
            throw ConfigError(
                file: (config.budgetsDirectory as NSString).appendingPathComponent("alerts.yaml"), key: "webhook_url",
                reason: "budget alerts read today's spend from the ledger: turn it on (ledger.enabled: true) or remove webhook_url"
            )
        }
        let store: any QuotaStore
        if let url = config.stores.redisURL {
            let redis = RedisClient(configuration: try Self.redisConfiguration(config.stores, url: url), logger: logger)
            self.redis = redis
            let reseeder = BudgetReseeder(
                replica: try config.ledger.url.map(BudgetReseeder.sharedLedgerIdentity)
                    ?? BudgetReseeder.replicaIdentity(dataDirectory: config.dataDirectory),
                client: redis, ledger: self.ledgerStore, limits: limits, logger: logger
            )
            self.budgetReseeder = reseeder
            let failover = FailoverQuotaStore(
                shared: RedisQuotaStore(client: redis, reseeder: reseeder), failOpen: config.stores.redisFailureMode == .open, logger: logger
            )
            // While Redis is unreachable (fail open) budgets are held per process: from this
            // replica's spend today, not from zero.
            Self.seedBudgets(into: failover.local, from: self.ledgerStore, limits: limits, logger: logger)
            store = failover
        } else {
            self.redis = nil
            self.budgetReseeder = nil
            let local = InProcessQuotaStore()
            Self.seedBudgets(into: local, from: self.ledgerStore, limits: limits, logger: logger)
            store = local
        }
        self.costs = CostControl(
            prices: try PriceBook.load(budgetsDirectory: config.budgetsDirectory, config: config, environment: environment),
            limits: limits,
            store: store,
            lease: Self.claimLease(config),
            logger: logger
        )
        self.cache = config.cache.mode == .off ? nil : ResponseCache(config: config.cache, redis: self.redis, logger: logger)
        self.upstream = upstream
        self.metrics = GatewayMetrics()
        let fallbackMetrics = FallbackMetrics()
        self.fallbackMetrics = fallbackMetrics
        self.breakers = CircuitBreakers(policy: config.circuitBreaker, onTransition: { deployment, state in
            fallbackMetrics.circuit(deployment, became: state)
            let metadata: Logger.Metadata = ["deployment": "\(deployment)", "circuit": "\(state.rawValue)"]
            if state == .open { logger.warning("circuit opened: requests skip this deployment", metadata: metadata) } else {
                logger.notice("circuit state changed", metadata: metadata)
            }
        })
        self.logger = logger
        self.embedder = LocalEmbedderSlot(config: config.embeddings, logger: logger)
        if config.cache.mode == .semantic {
            guard let local = self.embedder.local else {
                throw ConfigError(
                    file: "tollgate.yaml", key: "cache.mode",
                    reason: "the semantic cache needs the embedding model: \(self.embedder.unavailableReason ?? "not loaded")"
                )
            }
            self.semanticCache = SemanticCache(
                config: config.cache.semantic, embedder: local,
                snapshotPath: config.cache.semantic.snapshotInterval == nil
                    ? nil : URL(fileURLWithPath: config.dataDirectory).appendingPathComponent("semantic-cache.bin").path,
                logger: logger
            )
        } else {
            self.semanticCache = nil
        }
        self.modelCatalog = ModelCatalog()
        self.routing = try RoutingTable { () throws(ConfigError) in
            try RoutingRulesLoader.load(config: config, environment: environment)
        }
        do throws(TokenizerError) {
            self.tokenizers = try Tokenizers.shared()
        } catch {
            self.tokenizers = nil
            logger.warning(
                "prompt tokens estimated from byte length (about 4 bytes a token)",
                metadata: ["reason": "\(error.message)"]
            )
        }
        self.providerHeaders = self.providers.providers.mapValues { provider in
            (Self.makeUpstreamHeaders(for: provider, hasBody: true), Self.makeUpstreamHeaders(for: provider, hasBody: false))
        }
        for (name, reason) in self.providers.availability {
            if let reason {
                logger.warning("provider unavailable", metadata: ["provider": "\(name)", "reason": "\(reason)"])
            }
        }
    }

    /// In-process budgets start the day with what the ledger says was already spent today.
    /// Seeds in-process budgets with today's spend: now from the SQLite ledger; from
    /// PostgreSQL once its schema is in place, before this process's rows are written.
    static func seedBudgets(into store: InProcessQuotaStore, from ledger: (any LedgerStore)?, limits: LimitsConfig, logger: Logger) {
        if let database = ledger as? LedgerDatabase {
            Self.seedTodaysSpend(into: store, from: database, limits: limits, logger: logger)
        } else if let postgres = ledger as? PostgresLedger {
            postgres.afterMigration {
                let days = TodaysSpend(limits: limits).days(at: Date())
                var spend: [String: Result<[LedgerSpend], any Error>] = [:]
                for (zone, day) in days {
                    do {
                        spend[zone] = .success(try await postgres.spend(sinceMs: Int64(day.startsAt.timeIntervalSince1970 * 1000)))
                    } catch {
                        spend[zone] = .failure(error)
                    }
                }
                Self.seedTodaysSpend(into: store, days: days, limits: limits, logger: logger) { zone, _ in try spend[zone]!.get() }
            }
        }
    }

    static func seedTodaysSpend(into store: InProcessQuotaStore, from ledger: LedgerDatabase, limits: LimitsConfig, logger: Logger) {
        let days = TodaysSpend(limits: limits).days(at: Date())
        Self.seedTodaysSpend(into: store, days: days, limits: limits, logger: logger) { _, day in
            try ledger.spend(sinceMs: Int64(day.startsAt.timeIntervalSince1970 * 1000))
        }
    }

    /// Seeds each zone's day with `spend(zone, day)`.
    private static func seedTodaysSpend(
        into store: InProcessQuotaStore, days: [(String, BudgetDay)], limits: LimitsConfig, logger: Logger,
        spend: (String, BudgetDay) throws -> [LedgerSpend]
    ) {
        let today = TodaysSpend(limits: limits)
        var seededScopes = 0
        for (zone, day) in days {
            do {
                let scopes = today.scopes(zone: zone, day: day, rows: try spend(zone, day))
                for scope in scopes { store.seedSpend(scopeID: scope.scopeID, day: day.name, spent: scope.spent) }
                seededScopes += scopes.count
            } catch {
                logger.error(
                    "could not read today's spend from the ledger; budgets in this zone start from zero",
                    metadata: ["error": "\(error)", "time_zone": "\(zone)"]
                )
            }
        }
        if seededScopes > 0 {
            logger.info("budgets resume today's spend from the ledger", metadata: ["scopes": "\(seededScopes)", "time_zones": "\(days.count)"])
        }
    }

    /// Twice the longest total timeout any provider allows, and at least 15 minutes.
    static func claimLease(_ config: GatewayConfig) -> Duration {
        let longest = config.providers.values.map(\.timeouts.total).max() ?? .seconds(600)
        return max(.seconds(900), longest * 2 + .seconds(60))
    }

    static func redisConfiguration(_ stores: StoresConfig, url: String) throws(ConfigError) -> RedisClient.Configuration {
        let parsed: RedisURL
        do {
            parsed = try RedisURL(url)
        } catch {
            throw ConfigError(file: "tollgate.yaml", key: "stores.redis_url", reason: error.reason)
        }
        return RedisClient.Configuration(
            url: parsed, connections: stores.redisConnections, connectTimeout: .seconds(1), commandTimeout: stores.redisTimeout
        )
    }

    /// The provider serving `resolved`, or the 503 that explains why it cannot.
    func provider(for resolved: ResolvedModel) throws(GatewayError) -> Provider {
        guard let provider = self.providers.providers[resolved.providerName] else {
            throw .providerUnavailable(provider: resolved.providerName, reason: "it is not configured")
        }
        if let reason = provider.unavailableReason {
            throw .providerUnavailable(provider: provider.name, reason: reason)
        }
        return provider
    }
}
