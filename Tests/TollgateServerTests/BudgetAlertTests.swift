import Foundation
import Logging
import ServiceLifecycle
import Testing
@testable import TollgateCore
import TollgateTestSupport
import TollgateUpstream
@testable import TollgateServer

/// Budget alerts to a webhook: which alerts a day's spend raises, delivered once per budget,
/// day and kind (across restarts too), retried when the webhook fails. Driven with a fixed
/// `now`, so nothing depends on the time the test runs.
@Suite struct BudgetAlertTests {
    static let now = ISO8601DateFormatter().date(from: "2026-03-10T12:00:00Z")!
    static let limits = LimitsConfig(
        timeZone: TimeZone(identifier: "UTC")!, softLimitPercent: 80, global: .init(dailyBudget: USD(dollars: 100)),
        teams: ["research": .init(dailyBudget: USD(dollars: 1)), "ops": .init(dailyBudget: USD(dollars: 1)), "growth": .init(dailyBudget: USD(dollars: 10))]
    )

    static func row(_ index: Int, team: String, dollars: Double, minutesAgo: Int) -> LedgerEntry {
        LedgerEntry(
            timeMs: LedgerEntry.milliseconds(Self.now) - Int64(minutesAgo) * 60_000, requestID: "r\(index)", keyID: "key_\(team)", team: team,
            user: "u", route: "default", requestedModel: "gpt-5", servedModel: "gpt-5", provider: "openai", inputTokens: 10, outputTokens: 10,
            costNanodollars: USD(dollars: dollars).nanos, httpStatus: 200, latencyMs: 10
        )
    }

    /// research at 90% (soft limit), ops at 120% (exhausted), growth at 20%; $3.80 in the last
    /// hour against $24 over the day before it: a spike for the gateway as a whole, none for
    /// a team (research's hour is under the $1 floor, growth's under 3 times its average).
    static let rows: [LedgerEntry] = [
        row(1, team: "research", dollars: 0.9, minutesAgo: 50),
        row(2, team: "ops", dollars: 1.2, minutesAgo: 180),
        row(3, team: "growth", dollars: 2, minutesAgo: 30),
        row(4, team: "growth", dollars: 22.8, minutesAgo: 20 * 60),  // yesterday, in the trailing day
        row(5, team: "spender", dollars: 0.9, minutesAgo: 10),  // no budget of its own
    ]

    func withAlerter(
        webhook: FakeWebhook, dataDirectory: String, attempts: Int = 5, refusals: BudgetRefusals = BudgetRefusals(),
        _ body: @Sendable (BudgetAlerter) async throws -> Void
    ) async throws {
        let ledger = try LedgerDatabase(path: dataDirectory + "/ledger.sqlite")
        if try ledger.entries().isEmpty { try await ledger.write(Self.rows, storeText: false) }
        let keys = try KeyStore(directory: dataDirectory)
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let logger = quiet
        let client = UpstreamClient(logger: logger)
        let config = AlertsConfig(webhookURL: webhook.url, attempts: attempts)
        try await LiveServer.run(services: [client], { onPort in NoService(onRun: onPort) }) { _ in
            let alerter = BudgetAlerter(
                config: config, webhookURL: webhook.url, softLimitPercent: Self.limits.softLimitPercent, overview: SpendOverview(limits: Self.limits),
                ledger: ledger, keys: keys, declaredKeys: [], refusals: refusals, client: client, redis: nil, dataDirectory: dataDirectory,
                retryBase: .milliseconds(10), logger: logger
            )
            try await body(alerter)
        }
    }

    static func payloads(_ webhook: FakeWebhook) -> [[String: Any]] {
        webhook.bodies.compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }

    @Test func aDaysSpendRaisesEachAlertOnceAndARestartRemembers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-alerts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await FakeWebhook.withRunning { webhook in
            webhook.answer([500])  // the first delivery fails once, then succeeds
            try await self.withAlerter(webhook: webhook, dataDirectory: directory) { alerter in
                let sent = await alerter.checkOnce(now: Self.now)
                #expect(Set(sent.map(\.key)) == [
                    "exhausted|team|ops|2026-03-10", "soft_limit|team|research|2026-03-10", "spike|global|global|2026-03-10",
                ])
                #expect(webhook.bodies.count == 4)
                let payloads = Self.payloads(webhook)
                let texts = payloads.compactMap { $0["text"] as? String }
                #expect(texts.contains("Team ops has exhausted its daily budget ($1.20 of $1.00): its requests are refused until 2026-03-11T00:00:00Z."))
                #expect(texts.contains("Team research has used 90% of its daily budget ($0.90 of $1.00); it resets at 2026-03-11T00:00:00Z."))
                #expect(texts.contains { $0.hasPrefix("The gateway spent $3.80 in the last hour, against $1.00 an hour over the day before") })
                let spike = try #require(payloads.first { ($0["alert"] as? [String: Any])?["kind"] as? String == "spike" }?["alert"] as? [String: Any])
                #expect(spike["last_hour_usd"] as? Double == 3.8 && spike["hourly_average_usd"] as? Double == 1)
                #expect((spike["budget"] as? [String: Any])?["kind"] as? String == "global")

                #expect(await alerter.checkOnce(now: Self.now).isEmpty)
                #expect(webhook.bodies.count == 4)
            }
            // Another process on the same data dir: nothing again.
            try await self.withAlerter(webhook: webhook, dataDirectory: directory) { alerter in
                #expect(await alerter.checkOnce(now: Self.now).isEmpty)
                // The next day the same budgets may alert again (a new day, new keys).
                let tomorrow = Self.now.addingTimeInterval(86_400)
                #expect(await alerter.checkOnce(now: tomorrow).allSatisfy { $0.budget.day == "2026-03-11" })
            }
            #expect(webhook.bodies.count >= 4)
        }
    }

    @Test func aBudgetThatRefusedARequestIsExhaustedWhateverItSpent() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-alerts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let refusals = BudgetRefusals()
        let growth = try #require(Self.limits.teamScope("growth"))
        refusals.record(growth, day: "2026-03-10")
        refusals.record(try #require(Self.limits.teamScope("research")), day: "2026-03-09")  // another day: not today's
        try await FakeWebhook.withRunning { webhook in
            try await self.withAlerter(webhook: webhook, dataDirectory: directory, refusals: refusals) { alerter in
                let keys = await alerter.checkOnce(now: Self.now).map(\.key)
                #expect(keys.contains("exhausted|team|growth|2026-03-10"))
                #expect(keys.contains("soft_limit|team|research|2026-03-10") && !keys.contains("exhausted|team|research|2026-03-10"))
            }
        }
    }

    @Test func anAlertTheWebhookNeverTookIsTriedAgainNextTime() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-alerts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await FakeWebhook.withRunning { webhook in
            webhook.answer(Array(repeating: 503, count: 6))  // two attempts for each of the three alerts
            try await self.withAlerter(webhook: webhook, dataDirectory: directory, attempts: 2) { alerter in
                #expect(await alerter.checkOnce(now: Self.now).isEmpty)
                #expect(webhook.bodies.count == 6)
                #expect(await alerter.checkOnce(now: Self.now).count == 3)
                #expect(webhook.bodies.count == 9)
            }
        }
    }

    /// The running gateway checks on its own: a budget past its limit reaches the webhook.
    @Test func aRunningGatewaySendsItsAlerts() async throws {
        try await FakeWebhook.withRunning { webhook in
            let budgets = ["alerts.yaml": "webhook_url: \(webhook.url)\ncheck_interval: 1s\n", "limits.yaml": "teams:\n  qa: { daily_budget_usd: 0.5 }\n"]
            try await GatewayHarness.run(budgets: budgets) { gateway in
                let ledger = try #require(try LedgerDatabase.openIfPresent(path: gateway.dataDirectory + "/ledger.sqlite"))
                // Spend written behind the gateway's back (another replica's, say): $0.60 of $0.50.
                try await ledger.write([LedgerEntry(
                    timeMs: LedgerEntry.milliseconds(Date()), requestID: "seeded", keyID: "key_other", team: "qa", costNanodollars: 600_000_000,
                    httpStatus: 200, latencyMs: 1
                )], storeText: false)
                #expect(await waitUntil { Self.payloads(webhook).contains { ($0["alert"] as? [String: Any])?["kind"] as? String == "exhausted" } })
                let alert = try #require(Self.payloads(webhook).first?["alert"] as? [String: Any])
                #expect((alert["budget"] as? [String: Any])?["id"] as? String == "qa")
            }
            // Alerts read the ledger: a webhook without one is a configuration error.
            await #expect(throws: ConfigError.self) {
                try await GatewayHarness.run(budgets: ["alerts.yaml": "webhook_url: \(webhook.url)\n"], configure: { $0.ledger.enabled = false }) { _ in }
            }
        }
    }

    @Test func alertsYAMLIsCheckedWhenLoaded() throws {
        func load(_ yaml: String) throws -> AlertsConfig {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-alerts-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try yaml.write(toFile: directory + "/alerts.yaml", atomically: true, encoding: .utf8)
            return try AlertsConfig.load(budgetsDirectory: directory, environment: ["HOOK": "https://hooks.example.com/T1"])
        }
        let config = try load("webhook_url: ${HOOK}\ncheck_interval: 30s\nspike_multiple: 4\nspike_min_usd: 5\nattempts: 3\n")
        #expect(config == AlertsConfig(webhookURL: "https://hooks.example.com/T1", checkInterval: .seconds(30), spikeMultiple: 4, spikeMinimum: USD(dollars: 5), attempts: 3))
        #expect(try load("webhook_url: ${UNSET:-}\n").webhookURL == nil)
        for (yaml, key) in [("webhook_url: ftp://x\n", "webhook_url"), ("check_interval: 0s\n", "check_interval"), ("spike_multiple: 1\n", "spike_multiple"),
                            ("attempts: 0\n", "attempts"), ("webhok_url: x\n", "webhok_url")] {
            #expect(throws: ConfigError.self, "\(yaml)") { try load(yaml) }
            do { _ = try load(yaml) } catch let error as ConfigError { #expect(error.key == key, "\(yaml): \(error)") }
        }
    }
}

/// Stands in for the application LiveServer expects (only the HTTP client runs here).
private struct NoService: Service {
    let onRun: @Sendable (Int) async -> Void

    func run() async throws {
        await self.onRun(1)
        try? await gracefulShutdown()
    }
}
