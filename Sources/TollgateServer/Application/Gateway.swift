import Foundation
import Logging
import TollgateCore
import TollgateEmbedding
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
    let costs: CostControl
    /// The zone request features read the hour and weekday in.
    let timeZone = TimeZone.current
    let providerHeaders: [String: (withBody: [(name: String, value: String)], withoutBody: [(name: String, value: String)])]

    public init(
        config: GatewayConfig,
        environment: [String: String],
        upstream: UpstreamClient,
        logger: Logger
    ) throws {
        self.config = config
        self.providers = ProviderRegistry(config: config, environment: environment)
        self.keyStore = try KeyStore(directory: config.dataDirectory)
        let declared = try DeclaredKeysFile.load(budgetsDirectory: config.budgetsDirectory, environment: environment)
        self.keys = KeyRegistry(declared: declared, store: self.keyStore)
        self.costs = CostControl(
            prices: try PriceBook.load(budgetsDirectory: config.budgetsDirectory, config: config, environment: environment),
            limits: try LimitsConfig.load(budgetsDirectory: config.budgetsDirectory, environment: environment),
            store: InProcessQuotaStore(),
            logger: logger
        )
        self.upstream = upstream
        self.metrics = GatewayMetrics()
        self.logger = logger
        self.embedder = LocalEmbedderSlot(config: config.embeddings, logger: logger)
        self.modelCatalog = ModelCatalog()
        self.routing = try RoutingTable { () throws(ConfigError) in
            try RoutingRulesLoader.load(config: config, environment: environment)
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
