import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals
import TollgateCore
import TollgateUpstream

/// What `tollgate serve` needs to start the gateway; tests fill it in directly.
public struct ServeOptions: Sendable {
    public var config: GatewayConfig
    public var environment: [String: String]
    /// Overrides `server.host` / `server.port` from the config (`--host`, `--port`).
    public var host: String?
    public var port: Int?

    public init(config: GatewayConfig, environment: [String: String], host: String? = nil, port: Int? = nil) {
        self.config = config
        self.environment = environment
        self.host = host
        self.port = port
    }
}

/// Builds the gateway application: router, middleware, controllers and the services it runs
/// (the upstream transfer loop). `onServerRunning` reports the bound port (tests use port 0).
public func buildApplication(
    _ options: ServeOptions,
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let upstream = UpstreamClient(logger: logger)
    let gateway = try Gateway(config: options.config, environment: options.environment, upstream: upstream, logger: logger)
    let router = buildRouter(gateway: gateway)
    let connections = ConnectionLimit.make(configured: options.config.server.maxConnections, logger: logger)
    let idle = options.config.server.idleTimeout
    var app = Application(
        router: router,
        server: .http1OnEventLoop(configuration: .init(
            additionalChannelHandlers: [connections.handler(), ConnectionClosePolicy.Installer()],
            idleTimeout: .nanoseconds(idle.components.seconds * 1_000_000_000 + idle.components.attoseconds / 1_000_000_000)
        )),
        configuration: .init(
            address: .hostname(options.host ?? options.config.server.host, port: options.port ?? options.config.server.port),
            serverName: "tollgate"
        ),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger
    )
    app.addServices(upstream)
    // Stops after the ledger writer and the server: the last requests' spans still leave.
    if let tracing = gateway.tracingService { app.addServices(tracing) }
    // The PostgreSQL client stops after the ledger writer has drained into it.
    if let postgres = gateway.postgresLedger { app.addServices(postgres) }
    // The ledger writer stops after the server, so it drains every request's row.
    if let ledger = gateway.ledger { app.addServices(ledger) }
    // Its last snapshot holds every answer stored before the server stopped.
    if let semantic = gateway.semanticCache {
        app.addServices(SemanticCacheSnapshots(cache: semantic, interval: options.config.cache.semantic.snapshotInterval, logger: logger))
    }
    // Services stop in reverse order, after the server: Redis outlives the requests using it.
    if let redis = gateway.redis {
        app.addServices(redis)
        app.addServices(CircuitSync(breakers: gateway.breakers, redis: redis, interval: .seconds(1), logger: logger))
        if let reseeder = gateway.budgetReseeder { app.addServices(reseeder) }
    }
    if let webhookURL = gateway.alerts.webhookURL, let ledger = gateway.ledgerStore {
        app.addServices(BudgetAlerter(
            config: gateway.alerts, webhookURL: webhookURL, softLimitPercent: gateway.costs.limits.softLimitPercent,
            overview: SpendOverview(limits: gateway.costs.limits), ledger: ledger, keys: gateway.keyStore, declaredKeys: gateway.keys.declaredKeys,
            refusals: gateway.costs.budgetRefusals, client: gateway.upstream, redis: gateway.redis, dataDirectory: gateway.config.dataDirectory,
            logger: logger
        ))
    }
    app.addServices(RoutesReloader(table: gateway.routing, directory: options.config.routesDirectory, interval: .seconds(1), logger: logger))
    return app
}

func buildRouter(gateway: Gateway) -> Router<GatewayRequestContext> {
    let router = Router(context: GatewayRequestContext.self)
    // Middleware first: it wraps only the routes registered after it.
    router.add(middleware: RequestIDMiddleware())
    let budgetGauges = BudgetGauges(
        overview: SpendOverview(limits: gateway.costs.limits), ledger: gateway.ledgerStore, keys: gateway.keyStore,
        declaredKeys: gateway.keys.declaredKeys, logger: gateway.logger
    )
    HealthController(gateway: gateway, registry: GatewayMetrics.prometheusRegistry, budgetGauges: budgetGauges).addRoutes(to: router)
    ChatCompletionsController(gateway: gateway).addRoutes(to: router)
    MessagesController(gateway: gateway).addRoutes(to: router)
    EmbeddingsController(gateway: gateway).addRoutes(to: router)
    ModelsController(gateway: gateway).addRoutes(to: router)
    let admin = AdminAuthorization(adminKey: gateway.config.adminKey)
    AdminController(authorization: admin, routing: gateway.routing, logger: gateway.logger).addRoutes(to: router)
    AdminKeysController(authorization: admin, store: gateway.keyStore, registry: gateway.keys).addRoutes(to: router)
    AdminReportsController(authorization: admin, ledger: gateway.ledgerStore, timeZone: gateway.timeZone).addRoutes(to: router)
    AdminSpendController(
        authorization: admin, overview: SpendOverview(limits: gateway.costs.limits), ledger: gateway.ledgerStore,
        keys: gateway.keyStore, declaredKeys: gateway.keys.declaredKeys
    ).addRoutes(to: router)
    DashboardController(
        authorization: admin, session: DashboardSession(adminKey: gateway.config.adminKey), ledger: gateway.ledgerStore,
        overview: SpendOverview(limits: gateway.costs.limits), keys: gateway.keyStore, declaredKeys: gateway.keys.declaredKeys,
        timeZone: gateway.timeZone
    ).addRoutes(to: router)
    return router
}

/// Runs the gateway until SIGTERM or SIGINT, then stops accepting connections and lets
/// in-flight requests and streams finish for up to the configured grace period.
public func runGateway(_ options: ServeOptions, logger: Logger) async throws {
    let app = try buildApplication(options, logger: logger) { port in
        logger.info("tollgate listening", metadata: ["host": "\(options.host ?? options.config.server.host)", "port": "\(port)"])
    }
    var configuration = ServiceGroupConfiguration(
        services: [.init(service: app)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
    configuration.maximumGracefulShutdownDuration = options.config.server.shutdownGracePeriod
    configuration.maximumCancellationDuration = .seconds(5)
    try await ServiceGroup(configuration: configuration).run()
}
