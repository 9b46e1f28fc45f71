import Foundation
import Testing
@testable import TollgateCore

@Suite struct PriceBookTests {
    @Test func mostSpecificPatternWins() {
        let book = PriceBook(prices: [
            "gpt-4o*": ModelPrice(inputPerMillion: 2.5, outputPerMillion: 10),
            "gpt-4o-mini*": ModelPrice(inputPerMillion: 0.15, outputPerMillion: 0.6),
            "gpt-4o-mini": ModelPrice(inputPerMillion: 1, outputPerMillion: 1),
        ])
        #expect(book.price(for: "gpt-4o-mini")?.inputPerMillion == 1)
        #expect(book.price(for: "gpt-4o-mini-2024-07-18")?.inputPerMillion == 0.15)
        #expect(book.price(for: "gpt-4o-2024-08-06")?.inputPerMillion == 2.5)
        #expect(book.price(for: "claude-haiku-4-5") == nil)
    }

    @Test func costsAreExactInNanodollars() {
        let price = ModelPrice(inputPerMillion: 1.25, cachedInputPerMillion: 0.125, outputPerMillion: 10)
        let usage = TokenUsage(inputTokens: 1_000, cachedInputTokens: 400, outputTokens: 250)
        // 600 * 1.25 + 400 * 0.125 + 250 * 10 = 750 + 50 + 2500 micro-dollars.
        #expect(price.cost(of: usage) == USD(nanos: 3_300_000))
        #expect(price.cost(of: usage).description == "0.003300")
        #expect(price.worstCaseCost(inputTokens: 1_000, maxOutputTokens: 1_000) == USD(nanos: 11_250_000))
        let anthropic = ModelPrice(inputPerMillion: 3, cachedInputPerMillion: 0.3, cacheWritePerMillion: 3.75, outputPerMillion: 15)
        #expect(anthropic.cost(of: TokenUsage(inputTokens: 300, cachedInputTokens: 100, cacheWriteInputTokens: 100, outputTokens: 10)) == USD(nanos: 300_000 + 30_000 + 375_000 + 150_000))
    }

    @Test func shippedPricesCoverTheShippedConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let config = try ConfigLoader.load(GatewayConfig.self, file: root.appendingPathComponent("tollgate.yaml").path, environment: [:])
        let book = try PriceBook.load(budgetsDirectory: root.appendingPathComponent("budgets").path, config: config, environment: [:])
        #expect(book.takenOn != nil)
        #expect(book.price(for: "gpt-5-mini")?.outputPerMillion == 2)
        #expect(book.price(for: "local/all-MiniLM-L6-v2")?.isFree == true)
        // Limits come from the same entry as the price, patterns included.
        #expect(book.limits(for: "gpt-4o-mini-2024-07-18") == ModelLimits(contextWindow: 128_000, maxOutputTokens: 16_384))
        #expect(book.limits(for: "gpt-5-pro-2025") == .unknown)
    }

    @Test func modelLimitsAreCheckedWhenLoaded() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func load(_ yaml: String) throws -> PriceBook {
            try yaml.write(to: directory.appendingPathComponent("prices.yaml"), atomically: true, encoding: .utf8)
            return try PriceBook.load(budgetsDirectory: directory.path, config: GatewayConfig(), environment: [:])
        }
        let book = try load("models:\n  small: { input: 1, output: 1, context_window: 8000, max_output: 1000 }\n  local: { free: true, context_window: 512 }\n")
        #expect(book.limits(for: "small") == ModelLimits(contextWindow: 8000, maxOutputTokens: 1000))
        #expect(book.limits(for: "local") == ModelLimits(contextWindow: 512) && book.price(for: "local")?.isFree == true)
        for (yaml, reason) in [
            ("models:\n  small: { input: 1, output: 1, context_window: 0 }\n", "positive"),
            ("models:\n  small: { input: 1, output: 1, context_window: 100, max_output: 200 }\n", "larger than"),
            ("models:\n  small: { free: true, input: 1 }\n", "no prices"),
        ] {
            do {
                _ = try load(yaml)
                Issue.record("accepted: \(yaml)")
            } catch let error as ConfigError {
                #expect(error.reason.contains(reason), "\(error)")
            }
        }
    }

    @Test func anUnpricedModelIsAConfigurationError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "models:\n  gpt-4o: { input: 2.5, output: 10 }\n".write(to: directory.appendingPathComponent("prices.yaml"), atomically: true, encoding: .utf8)
        let config = GatewayConfig(
            providers: ["openai": ProviderConfig(kind: .openai, baseURL: "http://localhost")],
            models: [ModelMapping(name: "gpt-4o", provider: "openai"), ModelMapping(pattern: "o3*", provider: "openai")]
        )
        #expect(throws: ConfigError.self) { try PriceBook.load(budgetsDirectory: directory.path, config: config, environment: [:]) }
        do {
            _ = try PriceBook.load(budgetsDirectory: directory.path, config: config, environment: [:])
        } catch {
            #expect(error.reason.contains("o3*"))
        }
        try "models:\n  gpt-4o: { input: -1, output: 10 }\n".write(to: directory.appendingPathComponent("prices.yaml"), atomically: true, encoding: .utf8)
        do {
            _ = try PriceBook.load(budgetsDirectory: directory.path, config: GatewayConfig(), environment: [:])
            Issue.record("negative price accepted")
        } catch {
            #expect(error.line == 2 && error.reason.contains("non-negative"))
        }
    }

    @Test func limitsFileDecodes() throws {
        let limits = try ConfigLoader.decode(LimitsConfig.self, yaml: """
            time_zone: Europe/Paris
            soft_limit_pct: 75
            global: { daily_budget_usd: 100 }
            teams:
              support: { rpm: 600, tpm: 100000, max_concurrent: 8, daily_budget_usd: 20, time_zone: America/New_York }
            users:
              "*": { rpm: 30, daily_budget_usd: 2 }
              alice: { daily_budget_usd: 5 }
            """, file: "limits.yaml", environment: [:])
        #expect(limits.timeZone.identifier == "Europe/Paris" && limits.softLimitPercent == 75)
        #expect(limits.user("alice")?.dailyBudget == USD(dollars: 5))
        #expect(limits.user("bob")?.requestsPerMinute == 30)
        let key = GatewayKey(id: "k1", name: "bot", team: "support", requestsPerMinute: 10)
        let scopes = limits.scopes(key: key, keyLimits: key.limitSettings, user: "bob")
        #expect(scopes.map(\.id) == ["k:k1", "t:support", "u:t=support:bob", "g"])
        #expect(scopes[1].timeZone.identifier == "America/New_York" && scopes[2].timeZone.identifier == "Europe/Paris")

        // The per-request resolver reuses scopes but answers exactly the same.
        let resolver = ScopeResolver(limits: limits)
        for (candidate, user) in [(key, "bob"), (key, nil), (GatewayKey(id: "k2", name: "free"), "carol")] as [(GatewayKey, String?)] {
            #expect(resolver.scopes(key: candidate, user: user) == limits.scopes(key: candidate, keyLimits: candidate.limitSettings, user: user))
        }
        #expect(resolver.scopes(key: key, user: "bob")[1] === resolver.scopes(key: key, user: "dan")[1])
        // End users' scopes are built once, per team (or per key for keys without a team).
        let teammate = GatewayKey(id: "k9", name: "other", team: "support")
        #expect(resolver.scopes(key: key, user: "bob")[2] === resolver.scopes(key: teammate, user: "bob")[1])
        let (free, alsoFree) = (GatewayKey(id: "k2", name: "free"), GatewayKey(id: "k3", name: "free too"))
        #expect(resolver.scopes(key: free, user: "carol").first?.id == "u:k=k2:carol")
        #expect(resolver.scopes(key: alsoFree, user: "carol").first?.id == "u:k=k3:carol")
        #expect(resolver.scopes(key: GatewayKey(id: "k2", name: "free", team: "support"), user: "carol").map(\.id) == ["t:support", "u:t=support:carol", "g"])
        // A key whose limits changed (edited in keys.yaml, or a new key under the same id) gets a new scope.
        let raised = GatewayKey(id: "k1", name: "bot", team: "support", requestsPerMinute: 20)
        #expect(resolver.scopes(key: raised, user: nil).first?.limits.requestsPerMinute == 20)
        #expect(resolver.scopes(key: GatewayKey(id: "k1", name: "bot", team: "support"), user: nil).map(\.id) == ["t:support", "g"])
        #expect(throws: ConfigError.self) {
            try ConfigLoader.decode(LimitsConfig.self, yaml: "users:\n  a: { rpm: 0 }\n", file: "limits.yaml", environment: [:])
        }
        #expect(throws: ConfigError.self) {
            try ConfigLoader.decode(LimitsConfig.self, yaml: "time_zone: Mars/Olympus\n", file: "limits.yaml", environment: [:])
        }
    }
}
