import Foundation
import Logging
import TollgateCore
import TollgateServer
import TollgateTestSupport
import TollgateUpstream

/// A live gateway on an ephemeral port in front of a fake provider, with a fresh data dir
/// and one gateway key, for one test.
struct GatewayHarness: Sendable {
    let http: TestHTTPClient
    let provider: FakeProvider
    let secret: String
    let keyStore: KeyStore
    let dataDirectory: String
    /// Starts the gateway's graceful shutdown, as SIGTERM does.
    let beginShutdown: @Sendable () async -> Void

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let adminKey = "admin-test-secret"

    var routesDirectory: String { self.dataDirectory + "/routes" }

    /// Writes a routing rules file into the gateway's routes directory.
    /// Writes `file` atomically. A missing directory is made elsewhere with the file in it and
    /// renamed into place: the routes watcher must never see it empty (no rules) in between.
    func writeRoutes(_ yaml: String, file: String = "10-test.yaml") throws {
        if !FileManager.default.fileExists(atPath: self.routesDirectory) {
            let staging = self.routesDirectory + ".staging-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try yaml.write(toFile: staging + "/" + file, atomically: true, encoding: .utf8)
            try FileManager.default.moveItem(atPath: staging, toPath: self.routesDirectory)
            return
        }
        try yaml.write(toFile: self.routesDirectory + "/" + file, atomically: true, encoding: .utf8)
    }

    func adminReload() async throws -> TestHTTPClient.Reply {
        try await self.http.send("POST", "/admin/reload", headers: [("Authorization", "Bearer \(Self.adminKey)")])
    }

    var auth: [(name: String, value: String)] { [("Authorization", "Bearer \(self.secret)"), ("Content-Type", "application/json")] }

    /// `localEmbeddings` loads the in-process model (only the tests that use it pay for it).
    /// Prices for the harness's models; tests add `limits.yaml` and other budget files.
    static let testPrices = """
        models:
          gpt-4o: { input: 2.50, cached_input: 1.25, output: 10.00 }
          gpt-4o-mini: { input: 0.15, cached_input: 0.075, output: 0.60 }
          house-model: { input: 1.00, output: 2.00 }
          text-embedding-3-small: { input: 0.02, output: 0 }
          keyless-model: { input: 1, output: 1 }
          dead-model: { input: 1, output: 1 }
          "gpt-5*": { input: 1.25, cached_input: 0.125, output: 10.00 }
          "gpt-4.1*": { input: 2.00, cached_input: 0.50, output: 8.00 }
          local/all-MiniLM-L6-v2: { free: true }
          claude-sonnet-4-5: { input: 3.00, cached_input: 0.30, cache_write: 3.75, output: 15.00 }
          claude-haiku-4-5: { input: 1.00, cached_input: 0.10, cache_write: 1.25, output: 5.00 }
          claude-wrong-key: { input: 1, output: 1 }
          azure-gpt: { input: 2.50, cached_input: 1.25, output: 10.00 }
          azure-wrong-key: { input: 1, output: 1 }
        """

    /// The provider key the `*-wrong-key` providers send (the fake provider refuses it).
    static let wrongProviderKey = "sk-wrong-provider-key-42424242"

    /// `dataDirectory`: a directory kept after the run (a restart test runs twice on it);
    /// otherwise a fresh one, removed afterwards.
    static func run(
        localEmbeddings: Bool = false,
        dataDirectory kept: String? = nil,
        budgets: [String: String] = [:],
        keyLimits: (rpm: Int?, tpm: Int?, maxConcurrent: Int?, dailyBudgetUSD: Double?) = (nil, nil, nil, nil),
        configure: @Sendable (inout GatewayConfig) -> Void = { _ in },
        _ body: @Sendable (GatewayHarness) async throws -> Void
    ) async throws {
        try await FakeProvider.withRunning { provider in
            let dataDirectory = kept ?? FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-test-\(UUID().uuidString)").path
            defer { if kept == nil { try? FileManager.default.removeItem(atPath: dataDirectory) } }
            var config = GatewayConfig(
                dataDirectory: dataDirectory,
                providers: [
                    "openai": ProviderConfig(baseURL: provider.baseURL, apiKeyEnvironmentVariable: "TEST_OPENAI_KEY"),
                    "keyless": ProviderConfig(baseURL: provider.baseURL, apiKeyEnvironmentVariable: "TEST_UNSET_KEY"),
                    "anthropic": ProviderConfig(kind: .anthropic, baseURL: provider.rootURL, apiKeyEnvironmentVariable: "TEST_ANTHROPIC_KEY"),
                    "anthropic-wrong-key": ProviderConfig(kind: .anthropic, baseURL: provider.rootURL, apiKeyEnvironmentVariable: "TEST_WRONG_KEY"),
                    "azure": ProviderConfig(kind: .azureOpenAI, baseURL: provider.rootURL, apiKeyEnvironmentVariable: "TEST_AZURE_KEY"),
                    "azure-wrong-key": ProviderConfig(kind: .azureOpenAI, baseURL: provider.rootURL, apiKeyEnvironmentVariable: "TEST_WRONG_KEY"),
                ],
                models: [
                    ModelMapping(name: "gpt-4o", provider: "openai"),
                    ModelMapping(name: "gpt-4o-mini", provider: "openai"),
                    ModelMapping(name: "house-model", provider: "openai", upstreamModel: "gpt-4o-mini"),
                    ModelMapping(name: "text-embedding-3-small", provider: "openai", kind: .embedding),
                    ModelMapping(name: "keyless-model", provider: "keyless"),
                    ModelMapping(pattern: "gpt-5*", provider: "openai"),
                    ModelMapping(pattern: "gpt-4.1*", provider: "openai"),
                    ModelMapping(name: "claude-sonnet-4-5", provider: "anthropic"),
                    ModelMapping(name: "claude-haiku-4-5", provider: "anthropic"),
                    ModelMapping(name: "claude-wrong-key", provider: "anthropic-wrong-key"),
                    ModelMapping(name: "azure-gpt", provider: "azure", upstreamModel: "gpt4o-deployment"),
                    ModelMapping(name: "azure-wrong-key", provider: "azure-wrong-key", upstreamModel: "gpt4o-deployment"),
                ],
                budgetsDirectory: dataDirectory + "/budgets",
                routesDirectory: dataDirectory + "/routes",
                promptsDirectory: Self.repositoryRoot.appendingPathComponent("prompts").path
            )
            config.adminKey = GatewayHarness.adminKey
            config.embeddings.modelDirectory = localEmbeddings
                ? Self.repositoryRoot.appendingPathComponent("models/all-MiniLM-L6-v2").path
                : dataDirectory + "/no-model"
            configure(&config)
            try FileManager.default.createDirectory(atPath: config.budgetsDirectory, withIntermediateDirectories: true)
            for (file, text) in ["prices.yaml": Self.testPrices].merging(budgets, uniquingKeysWith: { $1 }) {
                try text.write(toFile: config.budgetsDirectory + "/" + file, atomically: true, encoding: .utf8)
            }
            let keyStore = try KeyStore(directory: dataDirectory)
            let (_, secret) = try keyStore.create(
                name: "test-app", team: "qa", requestsPerMinute: keyLimits.rpm, tokensPerMinute: keyLimits.tpm,
                maxConcurrent: keyLimits.maxConcurrent, dailyBudgetUSD: keyLimits.dailyBudgetUSD
            )
            var logger = Logger(label: "tollgate-test")
            logger.logLevel = .critical
            let client = UpstreamClient(logger: logger)
            let environment = [
                "TEST_OPENAI_KEY": provider.apiKey, "TEST_ANTHROPIC_KEY": provider.apiKey, "TEST_AZURE_KEY": provider.apiKey,
                "TEST_WRONG_KEY": Self.wrongProviderKey,
            ]
            let options = ServeOptions(config: config, environment: environment, host: "127.0.0.1", port: 0)
            try await LiveServer.run(services: [client], { onPort in
                try buildApplication(options, logger: logger, onServerRunning: onPort)
            }) { port, shutdown in
                let harness = GatewayHarness(
                    http: TestHTTPClient(client: client, port: port),
                    provider: provider,
                    secret: secret,
                    keyStore: keyStore,
                    dataDirectory: dataDirectory,
                    beginShutdown: shutdown
                )
                try await body(harness)
            }
        }
    }

    /// `POST /v1/messages` the way the Anthropic SDK sends it: the gateway key as `x-api-key`.
    func messages(
        _ json: String,
        headers extra: [(name: String, value: String)] = []
    ) async throws -> TestHTTPClient.Reply {
        let headers = [("x-api-key", self.secret), ("anthropic-version", "2023-06-01"), ("Content-Type", "application/json")]
        return try await self.http.send("POST", "/v1/messages", headers: headers + extra, body: Data(json.utf8))
    }

    func chat(
        _ json: String,
        headers extra: [(name: String, value: String)] = []
    ) async throws -> TestHTTPClient.Reply {
        try await self.http.send("POST", "/v1/chat/completions", headers: self.auth + extra, body: Data(json.utf8))
    }
}

/// Parses an SSE transcript into its events: the `event:` name (nil when absent) and the `data:` payload.
func sseEvents(_ text: String) -> [(name: String?, data: String)] {
    text.components(separatedBy: "\n\n").compactMap { event in
        let lines = event.split(separator: "\n")
        guard let data = lines.first(where: { $0.hasPrefix("data: ") }) else { return nil }
        return (lines.first { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }, String(data.dropFirst(6)))
    }
}

/// Parses an SSE transcript into its `data:` payloads.
func ssePayloads(_ text: String) -> [String] {
    text.components(separatedBy: "\n\n").compactMap { event in
        event.split(separator: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }
}
