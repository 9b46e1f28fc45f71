import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import TollgateCore
import TollgateUpstream

/// `tollgate demo`: a gateway on the built-in configuration, in front of a simulated provider,
/// in a temporary directory; a short scripted day of traffic that shows each capability with
/// the response headers that prove it; then the cost report with savings. Each step checks
/// what it shows, so the tour doubles as a smoke test (it fails when a step does not hold).
public struct DemoTour: Sendable {
    /// Where the narration goes (standard output for the command).
    let say: @Sendable (String) -> Void
    /// Where the embedding model would be, to decide whether the semantic cache can run.
    let modelDirectory: String?

    public init(modelDirectory: String?, say: @escaping @Sendable (String) -> Void) {
        self.modelDirectory = modelDirectory
        self.say = say
    }

    /// Runs the tour; returns whether every step showed what it should.
    public func run() async throws -> Bool {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let provider = SimulatedProvider()
        let logger = {
            var logger = Logger(label: "tollgate-demo")
            logger.logLevel = .critical
            return logger
        }()
        let client = UpstreamClient(logger: logger)
        return try await DemoServices.withRunning([client], app: { provider.application(onPort: $0) }, logger: logger) { providerPort in
            let semantic = self.modelDirectory.map { FileManager.default.fileExists(atPath: $0 + "/model.safetensors") } ?? false
            let environment = [
                "OPENAI_BASE_URL": "http://127.0.0.1:\(providerPort)/v1", "OPENAI_API_KEY": SimulatedProvider.apiKey,
                "ANTHROPIC_BASE_URL": "http://127.0.0.1:\(providerPort)", "ANTHROPIC_API_KEY": SimulatedProvider.apiKey,
                "TOLLGATE_DATA_DIR": directory + "/data", "TOLLGATE_CACHE_MODE": semantic ? "semantic" : "exact",
            ]
            let config = try {
                var config = try ShippedFiles.builtInConfig(in: directory + "/config", environment: environment)
                if semantic, let modelDirectory = self.modelDirectory { config.embeddings.modelDirectory = modelDirectory }
                return config
            }()
            let keys = try KeyStore(directory: config.dataDirectory)
            let app = try keys.create(name: "demo-app", team: "growth").secret
            let limited = try keys.create(name: "demo-limited", team: "support", requestsPerMinute: 2).secret
            let budgeted = try keys.create(name: "demo-budget", team: "research", dailyBudgetUSD: 0.003).secret
            let options = ServeOptions(config: config, environment: environment, port: 0)
            return try await DemoServices.withRunning([], app: { try buildApplication(options, logger: logger, onServerRunning: $0) }, logger: logger) { port in
                var steps = DemoSteps(client: client, gateway: "http://127.0.0.1:\(port)", provider: provider, say: self.say)
                let sent = try await steps.run(app: app, limited: limited, budgeted: budgeted, semantic: semantic)
                try await self.report(ledgerPath: config.ledgerPath, expecting: sent, timeZone: config.timeZone)
                return steps.failures == 0
            }
        }
    }

    /// Waits for the ledger to hold every request (rows are written in batches), then prints
    /// the day's report by route and by model, with savings.
    private func report(ledgerPath: String, expecting count: Int, timeZone: TimeZone) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let ledger = try LedgerDatabase.openIfPresent(path: ledgerPath), try ledger.count() >= count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        for grouping in [LedgerReport.Dimension.route, .model] {
            let report = try LedgerReport.make(.init(grouping: .dimension(grouping), timeZone: timeZone, savings: true), path: ledgerPath)
            self.say("\n== Cost report by \(grouping.rawValue) (tollgate report --by \(grouping.rawValue) --savings)\n" + report.table())
        }
    }
}

/// Runs an application and helper services until `body` returns, then shuts them down.
enum DemoServices {
    static func withRunning<T: Sendable>(
        _ services: [any Service], app: (@escaping @Sendable (Int) async -> Void) throws -> some Service, logger: Logger,
        body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = try app { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(services: services + [application], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                await group.triggerGracefulShutdown()
                throw DemoError(message: "a demo server did not start")
            }
            do {
                let result = try await body(port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }
}

struct DemoError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}
