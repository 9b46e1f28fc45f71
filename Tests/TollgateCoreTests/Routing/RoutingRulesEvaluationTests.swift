import Foundation
import Testing
@testable import TollgateCore

@Suite struct RoutingRulesEvaluationTests {
    // MARK: - Comparisons, one table

    struct ComparisonCase: CustomTestStringConvertible, Sendable {
        var condition: String
        var features: RequestFeatures
        var matches: Bool
        var testDescription: String { "\(self.condition) -> \(self.matches)" }
    }

    static let base = RequestFeatures(
        model: "gpt-4o", promptTokens: 1500, messageCount: 3, maxTokens: 500, hasTools: true, codeBlocks: 2,
        lastUserMessage: "Please DEBUG this: select id from users", systemPrompt: "You are terse.",
        keyName: "web", keyID: "k1", team: "growth", user: "alice", tags: RoutingTags(["env": "prod"]),
        budgetUsedPercent: 42, hour: 9, weekday: 6
    )

    static func with(_ change: (inout RequestFeatures) -> Void) -> RequestFeatures {
        var features = Self.base
        change(&features)
        return features
    }

    static let comparisonCases: [ComparisonCase] = [
        .init(condition: "{ feature: model, eq: gpt-4o }", features: base, matches: true),
        .init(condition: "{ feature: model, ne: gpt-4o }", features: base, matches: false),
        .init(condition: "{ feature: model, in: [a, gpt-4o] }", features: base, matches: true),
        .init(condition: "{ feature: model, not_in: [a, gpt-4o] }", features: base, matches: false),
        .init(condition: "{ feature: model, matches: '^gpt-4' }", features: base, matches: true),
        .init(condition: "{ feature: model, contains: '4o' }", features: base, matches: true),
        .init(condition: "{ feature: model, contains: '5' }", features: base, matches: false),
        .init(condition: "{ feature: prompt_tokens, gt: 1500 }", features: base, matches: false),
        .init(condition: "{ feature: prompt_tokens, gte: 1500 }", features: base, matches: true),
        .init(condition: "{ feature: prompt_tokens, lt: 1500 }", features: base, matches: false),
        .init(condition: "{ feature: prompt_tokens, lte: 1500 }", features: base, matches: true),
        .init(condition: "{ feature: messages, eq: 3 }", features: base, matches: true),
        .init(condition: "{ feature: messages, in: [1, 2] }", features: base, matches: false),
        .init(condition: "{ feature: max_tokens, lte: 500 }", features: base, matches: true),
        .init(condition: "{ feature: max_tokens, lte: 500 }", features: with { $0.maxTokens = nil }, matches: false),
        .init(condition: "{ feature: max_tokens, ne: 500 }", features: with { $0.maxTokens = nil }, matches: true),
        .init(condition: "{ feature: max_tokens, exists: false }", features: with { $0.maxTokens = nil }, matches: true),
        .init(condition: "{ feature: max_tokens, exists: true }", features: base, matches: true),
        .init(condition: "{ feature: has_tools, eq: true }", features: base, matches: true),
        .init(condition: "{ feature: has_images, eq: true }", features: base, matches: false),
        .init(condition: "{ feature: has_response_format, ne: true }", features: base, matches: true),
        .init(condition: "{ feature: code_blocks, gte: 2 }", features: base, matches: true),
        .init(condition: "{ feature: has_code, eq: false }", features: with { $0.codeBlocks = 0 }, matches: true),
        .init(condition: "{ feature: keyword.reasoning, eq: true }", features: base, matches: true),
        .init(condition: "{ feature: keyword.reasoning, eq: true }", features: with { $0.lastUserMessage = "undebuggable" }, matches: false),
        .init(condition: "{ feature: keyword.greeting, eq: true }", features: with { $0.lastUserMessage = "Hi! hello there" }, matches: true),
        .init(condition: "{ feature: system_keyword.terse, eq: true }", features: base, matches: true),
        .init(condition: "{ feature: system_keyword.reasoning, eq: true }", features: base, matches: false),
        .init(condition: "{ feature: pattern.sql, eq: true }", features: base, matches: true),
        .init(condition: "{ feature: system_pattern.sql, eq: true }", features: base, matches: false),
        .init(condition: "{ feature: key, eq: web }", features: base, matches: true),
        .init(condition: "{ feature: key_id, eq: k1 }", features: base, matches: true),
        .init(condition: "{ feature: team, in: [growth, sales] }", features: base, matches: true),
        .init(condition: "{ feature: team, ne: growth }", features: with { $0.team = nil }, matches: true),
        .init(condition: "{ feature: user, matches: '^al' }", features: base, matches: true),
        .init(condition: "{ feature: tag.env, eq: prod }", features: base, matches: true),
        .init(condition: "{ feature: tag.ENV, eq: prod }", features: base, matches: true),
        .init(condition: "{ feature: tag.beta, exists: true }", features: base, matches: false),
        .init(condition: "{ feature: budget_used_pct, gte: 40 }", features: base, matches: true),
        .init(condition: "{ feature: budget_used_pct, gte: 40 }", features: with { $0.budgetUsedPercent = nil }, matches: false),
        .init(condition: "{ feature: hour, lt: 10 }", features: base, matches: true),
        .init(condition: "{ feature: weekday, in: [sat, sun] }", features: base, matches: true),
        .init(condition: "{ feature: weekday, lte: fri }", features: base, matches: false),
        .init(condition: "{ feature: is_alias, eq: false }", features: base, matches: true),
        .init(condition: "{ feature: is_alias, eq: true }", features: with { $0.model = "auto" }, matches: true),
        // Nesting
        .init(condition: "{ all: [ { feature: has_tools, eq: true }, { feature: team, eq: growth } ] }", features: base, matches: true),
        .init(condition: "{ all: [ { feature: has_tools, eq: true }, { feature: team, eq: sales } ] }", features: base, matches: false),
        .init(condition: "{ any: [ { feature: team, eq: sales }, { feature: hour, eq: 9 } ] }", features: base, matches: true),
        .init(condition: "{ any: [ { feature: team, eq: sales }, { feature: hour, eq: 10 } ] }", features: base, matches: false),
        .init(condition: "{ not: { feature: team, eq: sales } }", features: base, matches: true),
        .init(condition: "{ not: { any: [ { feature: team, eq: sales }, { all: [ { feature: hour, gte: 9 }, { not: { feature: has_code, eq: false } } ] } ] } }", features: base, matches: false),
        .init(condition: "[ { feature: team, eq: growth }, { feature: hour, eq: 9 } ]", features: base, matches: true),
    ]

    @Test(arguments: comparisonCases)
    func comparison(_ test: ComparisonCase) throws {
        let rules = try compileRules("""
            aliases: [auto]
            keywords:
              reasoning: [debug, "step by step"]
              greeting: [hi, hello]
              terse: [terse]
            patterns:
              sql: '(?i)\\bselect\\b.+\\bfrom\\b'
            routes:
              - name: probe
                when: \(test.condition)
                target: passthrough
              - name: probe-alias
                when: \(test.condition)
                target: gpt-5
              - name: default
                default: true
                target: gpt-5-mini
            """)
        let expected = test.matches ? (test.features.model == "auto" ? "probe-alias" : "probe") : "default"
        #expect(rules.evaluate(test.features).route == expected)
        #expect(rules.explain(test.features).decision.route == expected)
    }

    // MARK: - Order, default, aliases, concrete models

    let orderRules = """
        aliases: [auto, fast]
        routes:
          - name: first-in-file
            when: { feature: team, eq: growth }
            target: gpt-4.1
          - name: high-priority
            priority: 10
            when: { feature: hour, lt: 12 }
            target: gpt-5
          - name: second-in-file
            when: { feature: team, eq: growth }
            target: gpt-4o
          - name: concrete-kept
            when: { feature: team, eq: ops }
            target: passthrough
            caps: { max_tokens: 100 }
          - name: downgrade
            priority: 50
            when: { feature: budget_used_pct, gte: 90 }
            target: gpt-5-nano
            override_concrete_model: true
          - name: same-model
            when: { feature: team, eq: data }
            target: { deployments: [ { model: gpt-4o, provider: openai, weight: 2 }, { model: gpt-4o, provider: azure, weight: 1 } ] }
          - name: default
            default: true
            target: gpt-5-mini
            fallbacks: [gpt-5-nano, template: busy]
        """

    struct RouteCase: Sendable, CustomTestStringConvertible {
        var label: String
        var features: RequestFeatures
        var route: String
        var model: String
        var changed: Bool
        var testDescription: String { self.label }
    }

    static let routeCases: [RouteCase] = [
        .init(label: "priority beats file order", features: .init(model: "auto", team: "growth", hour: 9), route: "high-priority", model: "gpt-5", changed: true),
        .init(label: "file order among equal priority", features: .init(model: "auto", team: "growth", hour: 15), route: "first-in-file", model: "gpt-4.1", changed: true),
        .init(label: "alias falls to default model", features: .init(model: "fast", hour: 15), route: "default", model: "gpt-5-mini", changed: true),
        .init(label: "concrete model skips model-changing routes", features: .init(model: "gpt-4o-mini", team: "growth", hour: 9), route: "default", model: "gpt-4o-mini", changed: false),
        .init(label: "concrete model takes passthrough route", features: .init(model: "gpt-4o-mini", team: "ops", hour: 15), route: "concrete-kept", model: "gpt-4o-mini", changed: false),
        .init(label: "alias skips passthrough route", features: .init(model: "auto", team: "ops", hour: 15), route: "default", model: "gpt-5-mini", changed: true),
        .init(label: "override changes a concrete model", features: .init(model: "gpt-5.1", team: "growth", budgetUsedPercent: 95, hour: 9), route: "downgrade", model: "gpt-5-nano", changed: true),
        .init(label: "route naming the requested model applies", features: .init(model: "gpt-4.1", team: "growth", hour: 15), route: "first-in-file", model: "gpt-4.1", changed: false),
        .init(label: "deployments of the requested model apply", features: .init(model: "gpt-4o", team: "data", hour: 15), route: "same-model", model: "gpt-4o", changed: false),
    ]

    @Test(arguments: routeCases)
    func routing(_ test: RouteCase) throws {
        let rules = try compileRules(orderRules)
        let decision = rules.evaluate(test.features)
        #expect(decision.route == test.route)
        #expect(decision.model == test.model)
        #expect(decision.modelChanged == test.changed)
        #expect(decision.requestedModel == test.features.model)
        #expect(rules.explain(test.features).decision == decision)
    }

    @Test func decisionCarriesPolicies() throws {
        let rules = try compileRules(orderRules)
        let fallback = rules.evaluate(.init(model: "auto", hour: 15))
        #expect(fallback.fallbacks == FallbackChain(models: ["gpt-5-nano"], template: "busy"))
        #expect(rules.evaluate(.init(model: "gpt-4o", team: "ops")).caps.maxTokens == 100)
        let balanced = rules.evaluate(.init(model: "gpt-4o", team: "data"))
        #expect(balanced.deployments?.deployments.map(\.id) == ["openai/gpt-4o", "azure/gpt-4o"])
        #expect(balanced.deployments?.strategy == .weighted)
        // Deployments of another model do not apply to a concrete request without override.
        #expect(rules.evaluate(.init(model: "gpt-4.1", team: "data")).deployments == nil)
    }

    @Test func policiesDecode() throws {
        let rules = try compileRules("""
            routes:
              - name: r
                when: { feature: has_code, eq: true }
                target: { deployments: [ { model: gpt-5, provider: openai }, { model: gpt-5, provider: azure, weight: 3, name: az } ], strategy: least_in_flight }
                override_concrete_model: true
                fallbacks: [gpt-4.1, gpt-5-mini, template: busy]
                retries: 2
                timeouts: { first_byte: 10s, idle: 500ms, total: 2m }
                caps: { max_tokens: 1024 }
              - { name: default, default: true, target: passthrough }
            """)
        let d = rules.evaluate(.init(model: "gpt-4o", codeBlocks: 1))
        #expect(d.model == "gpt-5")
        #expect(d.deployments?.deployments == [Deployment(model: "gpt-5", provider: "openai"), Deployment(model: "gpt-5", provider: "azure", weight: 3, name: "az")])
        #expect(d.deployments?.strategy == .leastInFlight)
        #expect(d.fallbacks == FallbackChain(models: ["gpt-4.1", "gpt-5-mini"], template: "busy", retries: 2))
        #expect(d.timeouts == RouteTimeouts(firstByte: .seconds(10), idle: .milliseconds(500), total: .seconds(120)))
        #expect(d.caps.outputTokenLimit(requested: nil) == 1024)
        #expect(d.caps.outputTokenLimit(requested: 4000) == 1024)
        #expect(d.caps.outputTokenLimit(requested: 10) == 10)
        let passthrough = rules.evaluate(.init(model: "gpt-4o"))
        #expect(passthrough.route == "default" && passthrough.model == "gpt-4o" && !passthrough.modelChanged)
    }

    @Test func cachePoliciesLoadAndBadOnesAreRefused() throws {
        let rules = try compileRules("""
            routes:
              - { name: default, default: true, target: passthrough, cache: { exact: true, scope: user, ttl: 10m, max_temperature: 0.5 } }
              - { name: fuzzy, when: { feature: model, eq: gpt-4o-mini }, target: passthrough, cache: { semantic: true, threshold: 0.9 } }
            """)
        #expect(rules.evaluate(.init(model: "gpt-4o")).cache == RouteCachePolicy(exact: true, scope: .user, ttl: .seconds(600), maxTemperature: 0.5))
        #expect(rules.evaluate(.init(model: "gpt-4o-mini")).cache == RouteCachePolicy(semantic: true, threshold: 0.9))
        for bad in ["{ semantic: maybe }", "{ threshold: 1.5 }", "{ scope: tenant }", "{ max_temperature: 3 }", "{ ttl: 0s }"] {
            #expect(throws: ConfigError.self, "\(bad)") {
                try compileRules("routes:\n  - { name: default, default: true, target: passthrough, cache: \(bad) }\n")
            }
        }
    }

    // MARK: - Complexity

    let complexityRules = """
        aliases: [auto]
        keywords: { reasoning: [prove, analyze] }
        complexity:
          weights: { prompt_tokens_per_1k: 1.0, code_blocks: 2.0, has_tools: 1.5, keyword.reasoning: 2.0, messages_over_6: 1.0 }
          tiers: { complex: 4, simple: 0, standard: 2 }
        routes:
          - { name: complex, when: { feature: tier, eq: complex }, target: gpt-5 }
          - { name: standard-up, when: { feature: tier, gte: standard }, target: gpt-4.1 }
          - { name: very, when: { feature: score, gt: 100 }, target: o3 }
          - { name: default, default: true, target: gpt-5-mini }
        """

    @Test(arguments: [
        (RequestFeatures(model: "auto", promptTokens: 500), "default"),                                 // 0.5
        (RequestFeatures(model: "auto", promptTokens: 2000), "standard-up"),                            // 2
        (RequestFeatures(model: "auto", hasTools: true), "default"),                                    // 1.5
        (RequestFeatures(model: "auto", hasTools: true, lastUserMessage: "Analyze it"), "standard-up"), // 3.5
        (RequestFeatures(model: "auto", messageCount: 9, codeBlocks: 1), "complex"),                    // 3 + 2
        (RequestFeatures(model: "auto", promptTokens: 2000, codeBlocks: 1), "complex"),                 // 4
        (RequestFeatures(model: "auto", messageCount: 7), "default"),                                   // 1
    ] as [(RequestFeatures, String)])
    func tiersFromWeights(_ features: RequestFeatures, _ route: String) throws {
        let rules = try compileRules(complexityRules)
        #expect(rules.evaluate(features).route == route)
        #expect(rules.tierNames == ["simple", "standard", "complex"])
    }

    @Test func explainNamesFailingConditionsAndScore() throws {
        let rules = try compileRules(complexityRules)
        let explanation = rules.explain(.init(model: "auto", promptTokens: 2500, lastUserMessage: "prove it"))
        #expect(explanation.decision.route == "complex")
        #expect(explanation.verdicts.map(\.outcome) == [
            .chosen, .shadowed, .notMatched(reason: "score gt 100 (is 4.50)"), .shadowed,
        ])
        let text = explanation.description
        #expect(text.contains("=> complex"))
        #expect(text.contains("prompt_tokens_per_1k +2.50"))
        #expect(text.contains("keyword.reasoning +2.00"))
        #expect(text.contains("complex (simple >= 0, standard >= 2, complex >= 4)"))
        let concrete = rules.explain(.init(model: "gpt-4o", promptTokens: 100))
        #expect(concrete.verdicts[0].outcome == .skipped(reason: "would change the requested model 'gpt-4o' to 'gpt-5' (needs override_concrete_model: true)"))
        #expect(concrete.decision.model == "gpt-4o")
        #expect(concrete.description.contains("gpt-4o (requested model kept)"))
    }
}
