import Foundation
import Logging
import Testing
@testable import TollgateCore
import TollgateTestSupport
@testable import TollgateServer

/// Every request becomes a ledger row, written off the request path.
@Suite struct LedgerTests {
    /// Waits (up to 10 s) until the gateway's ledger holds `count` rows, and returns them.
    static func rows(in gateway: GatewayHarness, count: Int) async throws -> [LedgerEntry] {
        let path = gateway.dataDirectory + "/ledger.sqlite"
        var entries: [LedgerEntry] = []
        for _ in 0..<200 {
            entries = try LedgerDatabase.openIfPresent(path: path)?.entries() ?? []
            if entries.count >= count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return entries
    }

    @Test func requestsAreRecordedWithTheirCostAndWho() async throws {
        try await GatewayHarness.run(keyLimits: (rpm: 2, tpm: nil, maxConcurrent: nil, dailyBudgetUSD: nil)) { gateway in
            let plain = try await gateway.chat(#"{"model":"gpt-4o-mini","user":"erin","messages":[{"role":"user","content":"hello"}]}"#)
            let stream = try await gateway.chat(#"{"model":"house-model","stream":true,"messages":[{"role":"user","content":"hi"}]}"#, headers: [("X-Tollgate-User", "finn")])
            let refused = try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"again"}]}"#)
            #expect(plain.status == 200 && stream.status == 200 && refused.status == 429)

            let rows = try await Self.rows(in: gateway, count: 3)
            try #require(rows.count == 3)
            let first = try #require(rows.first { $0.requestID == plain.header("X-Tollgate-Request-Id") })
            #expect(first.user == "erin" && first.team == "qa" && first.keyID?.hasPrefix("key_") == true)
            #expect(first.requestedModel == "gpt-4o-mini" && first.servedModel == "gpt-4o-mini" && first.provider == "openai")
            #expect(first.route != nil && first.route == plain.header("X-Tollgate-Route"))
            #expect(first.httpStatus == 200 && !first.stream && first.inputTokens > 0 && first.outputTokens > 0)
            #expect(USD(nanos: first.costNanodollars).description == plain.header("X-Tollgate-Cost-USD"))
            #expect(first.upstreamLatencyMs != nil)

            let streamed = try #require(rows.first { $0.requestID == stream.header("X-Tollgate-Request-Id") })
            #expect(streamed.stream && streamed.user == "finn" && streamed.servedModel == "house-model")
            #expect(streamed.outputTokens > 0 && streamed.costNanodollars > 0 && streamed.timeToFirstTokenMs != nil)

            let denied = try #require(rows.first { $0.requestID == refused.header("X-Tollgate-Request-Id") })
            #expect(denied.httpStatus == 429 && denied.errorCode == "rate_limit_exceeded" && denied.costNanodollars == 0)
            // No prompt text unless the operator turns it on.
            #expect(rows.allSatisfy { $0.promptText == nil && $0.responseText == nil })
        }
    }

    /// What reports group and compute savings by: the request's tags, and the list price of
    /// what it asked for (a concrete model, or an alias's baseline).
    @Test func rowsKeepTagsAndWhatTheRequestedModelWouldHaveCost() async throws {
        // gpt-5-mini at a fifth of gpt-5's price, the rest as usual.
        let prices = GatewayHarness.testPrices.replacingOccurrences(
            of: #"  "gpt-5*""#, with: "  gpt-5-mini: { input: 0.25, output: 2.00 }\n  \"gpt-5*\""
        )
        try await GatewayHarness.run(
            budgets: ["prices.yaml": prices],
            configure: { $0.routesDirectory = GatewayHarness.repositoryRoot.appendingPathComponent("routes").path }
        ) { gateway in
            let routed = try await gateway.chat(
                #"{"model":"auto","messages":[{"role":"user","content":"What is the capital of France?"}]}"#,
                headers: [("X-Tollgate-Tag", "env=prod, beta"), ("X-Tollgate-Tag", "feature=\"search\"")]
            )
            let concrete = try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}"#)
            let smart = try await gateway.chat(#"{"model":"smart","messages":[{"role":"user","content":"hello"}]}"#)
            #expect(routed.status == 200 && concrete.status == 200 && smart.status == 200)
            #expect(routed.header("X-Tollgate-Model") == "gpt-5-mini")
            let rows = try await Self.rows(in: gateway, count: 3)
            try #require(rows.count == 3)
            func row(_ reply: TestHTTPClient.Reply) throws -> LedgerEntry {
                try #require(rows.first { $0.requestID == reply.header("X-Tollgate-Request-Id") })
            }
            let auto = try row(routed)
            #expect(auto.tagsJSON == #"{"env":"prod","beta":"true","feature":"\"search\""}"#)
            let usage = TokenUsage(inputTokens: auto.inputTokens, cachedInputTokens: auto.cachedInputTokens, outputTokens: auto.outputTokens)
            let gpt5 = ModelPrice(inputPerMillion: 1.25, cachedInputPerMillion: 0.125, outputPerMillion: 10.00)
            #expect(auto.requestedCostNanodollars == gpt5.cost(of: usage).nanos)
            #expect(auto.requestedCostNanodollars! > auto.costNanodollars)
            #expect(try row(concrete).requestedCostNanodollars == row(concrete).costNanodollars && row(concrete).tagsJSON == nil)
            #expect(try row(smart).requestedCostNanodollars == nil)  // no baseline for `smart`

            let ledger = try #require(try LedgerDatabase.openIfPresent(path: gateway.dataDirectory + "/ledger.sqlite"))
            let byEnv: LedgerReport = try await ledger.report(.init(grouping: .dimension(.tag("env")), timeZone: .current, savings: true))
            #expect(Set(byEnv.rows.map { $0.groups }) == [[nil], ["prod"]])
            let prod = try #require(byEnv.rows.first { $0.group == "prod" })
            #expect(prod.routingSavedNanodollars == auto.requestedCostNanodollars! - auto.costNanodollars)
        }
    }

    @Test func gracefulShutdownWritesEveryRow() async throws {
        try await GatewayHarness.run { gateway in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        _ = try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"n\#(index)"}]}"#)
                    }
                }
                try await group.waitForAll()
            }
            await gateway.beginShutdown()
            #expect(try await Self.rows(in: gateway, count: 60).count == 60)
        }
    }

    @Test func textIsKeptOnlyWhenTheOperatorAsks() async throws {
        try await GatewayHarness.run(configure: { $0.ledger.storeText = true }) { gateway in
            let plain = try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"remember me"}]}"#)
            let stream = try await gateway.chat(#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"stream me"}]}"#)
            let rows = try await Self.rows(in: gateway, count: 2)
            let first = try #require(rows.first { $0.requestID == plain.header("X-Tollgate-Request-Id") })
            #expect(first.promptText?.contains("remember me") == true)
            #expect(first.responseText == String(decoding: plain.body, as: UTF8.self))
            let streamed = try #require(rows.first { $0.requestID == stream.header("X-Tollgate-Request-Id") })
            #expect(streamed.promptText?.contains("stream me") == true)
            #expect(streamed.responseText == String(decoding: stream.body, as: UTF8.self))
        }
    }

    @Test func aDisabledLedgerRecordsNothingAndSaysSo() async throws {
        try await GatewayHarness.run(configure: { $0.ledger.enabled = false }) { gateway in
            #expect(try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#).status == 200)
            let ready = try await gateway.http.send("GET", "/health/ready")
            #expect(String(decoding: ready.body, as: UTF8.self).contains(#""ledger":"disabled""#))
            #expect(!FileManager.default.fileExists(atPath: gateway.dataDirectory + "/ledger.sqlite"))
        }
    }

    @Test func inProcessBudgetsResumeTodaysSpendAfterARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-seed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try LedgerDatabase(path: directory + "/ledger.sqlite")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var today = LedgerEntry(timeMs: now, requestID: "a", httpStatus: 200, latencyMs: 5)
        today.keyID = "key_1"
        today.team = "qa"
        today.user = "gina"
        today.costNanodollars = 300_000_000  // $0.30
        var lastWeek = today
        lastWeek.requestID = "b"
        lastWeek.timeMs = now - 7 * 86_400_000
        try await database.write([today, lastWeek], storeText: false)

        let limits = LimitsConfig(users: ["gina": LimitSettings(dailyBudget: USD(dollars: 1))])
        let store = InProcessQuotaStore()
        Gateway.seedTodaysSpend(into: store, from: database, limits: limits, logger: Logger(label: "test"))
        let key = GatewayKey(id: "key_1", name: "app", team: "qa")
        let scopes = limits.scopes(key: key, keyLimits: key.limitSettings, user: "gina")
        #expect(store.budgetUsedPercent(scopes, at: Date()).map { $0.rounded() } == 30)
    }

    /// A budget in another zone resumes the spend of its own day, not of the default zone's.
    @Test func seedingUsesEachBudgetsOwnDay() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-seed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try LedgerDatabase(path: directory + "/ledger.sqlite")
        // UTC+14: its day starts 10 to 14 hours away from UTC's, so one of the two rows below
        // is always on a different side of the UTC midnight than of its own.
        let zone = TimeZone(identifier: "Pacific/Kiritimati")!
        let start = Int64(BudgetDay(containing: Date(), in: zone).startsAt.timeIntervalSince1970 * 1000)
        var inside = LedgerEntry(timeMs: start + 1_000, requestID: "inside", httpStatus: 200, latencyMs: 5)
        inside.keyID = "key_1"
        inside.team = "qa"
        inside.costNanodollars = 200_000_000  // $0.20, today in Kiritimati
        var before = inside
        before.requestID = "before"
        before.timeMs = start - 60_000
        before.costNanodollars = 500_000_000  // $0.50, yesterday in Kiritimati
        try await database.write([inside, before], storeText: false)

        let limits = LimitsConfig(teams: ["qa": LimitSettings(dailyBudget: USD(dollars: 1), timeZone: zone)])
        let store = InProcessQuotaStore()
        Gateway.seedTodaysSpend(into: store, from: database, limits: limits, logger: Logger(label: "test"))
        let key = GatewayKey(id: "key_1", name: "app", team: "qa")
        let scopes = limits.scopes(key: key, keyLimits: key.limitSettings, user: nil)
        #expect(scopes.map(\.id) == ["t:qa"])
        #expect(store.budgetUsedPercent(scopes, at: Date()).map { $0.rounded() } == 20)
    }
}
