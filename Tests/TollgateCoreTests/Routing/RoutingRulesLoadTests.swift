import Foundation
import Testing
@testable import TollgateCore

@Suite struct RoutingRulesLoadTests {
    static let tail = """
          - name: default
            default: true
            target: gpt-5-mini
        """

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var label: String
        var yaml: String
        var line: Int?
        var key: String?
        var reason: String
        var testDescription: String { self.label }
    }

    static let errorCases: [ErrorCase] = [
        .init(label: "unknown top-level key", yaml: "routs: []\n", line: 1, key: "routs", reason: "unknown key 'routs' (allowed: complexity, keywords, patterns, aliases, routes, savings_baselines)"),
        .init(label: "unknown route key", yaml: """
            routes:
              - name: a
                when: { feature: has_code, eq: true }
                target: gpt-5
                prio: 3
            """ + "\n" + tail, line: 5, key: "routes[0].prio", reason: "unknown key 'prio' (allowed: name, description, priority, when, target, fallbacks, retries, timeouts, cache, caps, default, override_concrete_model)"),
        .init(label: "unknown feature", yaml: """
            routes:
              - name: a
                when:
                  all:
                    - { feature: has_code, eq: true }
                    - { feature: prompt_tokenz, gt: 3 }
                target: gpt-5
            """ + "\n" + tail, line: 6, key: "routes[0].when.all[1].feature", reason: "unknown feature 'prompt_tokenz' (known: \(RouteFeature.nameList))"),
        .init(label: "wrong value type", yaml: """
            routes:
              - name: a
                when: { feature: prompt_tokens, gt: lots }
                target: gpt-5
            """ + "\n" + tail, line: 3, key: "routes[0].when.gt", reason: "'prompt_tokens' is a number: expected a number"),
        .init(label: "ordering a string", yaml: """
            routes:
              - name: a
                when: { feature: team, gt: a }
                target: gpt-5
            """ + "\n" + tail, line: 3, key: "routes[0].when.gt", reason: "'gt' does not apply: 'team' is a string"),
        .init(label: "unknown operator", yaml: """
            routes:
              - name: a
                when: { feature: team, equals: a }
                target: gpt-5
            """ + "\n" + tail, line: 3, key: "routes[0].when.equals", reason: "unknown key 'equals' (allowed: \(RawCondition.allowedKeys))"),
        .init(label: "invalid regex", yaml: """
            routes:
              - name: a
                when: { feature: user, matches: '(unclosed' }
                target: gpt-5
            """ + "\n" + tail, line: 3, key: "routes[0].when.matches", reason: "invalid regular expression: '(unclosed' does not compile"),
        .init(label: "invalid named pattern", yaml: "patterns:\n  sql: '[a-'\nroutes:\n" + tail, line: 2, key: "patterns.sql", reason: "invalid regular expression: '[a-' does not compile"),
        .init(label: "unknown keyword list", yaml: """
            keywords: { reasoning: [prove] }
            routes:
              - name: a
                when:
                  - { feature: keyword.reasonin, eq: true }
                target: gpt-5
            """ + "\n" + tail, line: 5, key: "routes[0].when[0].feature", reason: "unknown keyword list 'reasonin' (defined: reasoning)"),
        .init(label: "unknown pattern", yaml: """
            routes:
              - name: a
                when: { feature: system_pattern.sql, eq: true }
                target: gpt-5
            """ + "\n" + tail, line: 3, key: "routes[0].when.feature", reason: "unknown pattern 'sql' (defined: none)"),
        .init(label: "tier without complexity", yaml: """
            routes:
              - name: a
                when: { feature: tier, eq: simple }
                target: gpt-5
            """ + "\n" + tail, line: 3, key: "routes[0].when.feature", reason: "'tier' needs a 'complexity' section"),
        .init(label: "unknown tier", yaml: """
            complexity: { weights: { has_tools: 1 }, tiers: { low: 0, high: 2 } }
            routes:
              - name: a
                when: { feature: tier, eq: simple }
                target: gpt-5
            """ + "\n" + tail, line: 4, key: "routes[0].when.eq", reason: "unknown tier 'simple' (tiers: low, high)"),
        .init(label: "zero weight", yaml: "complexity:\n  weights: { has_tools: 0 }\n  tiers: { a: 0 }\nroutes:\n" + tail, line: 2, key: "complexity.weights.has_tools", reason: "a weight must be a non-zero number"),
        .init(label: "unweighable feature", yaml: "complexity:\n  weights:\n    team: 1\n  tiers: { a: 0 }\nroutes:\n" + tail, line: 3, key: "complexity.weights.team", reason: "'team' cannot be weighed; weigh number features (optionally _per_1k or _over_N) or true/false features"),
        .init(label: "deployment weight", yaml: """
            routes:
              - name: a
                when: { feature: has_code, eq: true }
                target:
                  deployments:
                    - { model: gpt-5, provider: openai, weight: 0 }
            """ + "\n" + tail, line: 6, key: "routes[0].target.deployments[0].weight", reason: "a weight must be a positive integer"),
        .init(label: "mixed deployment models", yaml: """
            routes:
              - name: a
                when: { feature: has_code, eq: true }
                target:
                  deployments: [ { model: gpt-5, provider: openai }, { model: gpt-4.1, provider: openai } ]
            """ + "\n" + tail, line: 5, key: "routes[0].target.deployments", reason: "deployments of one target serve one model ('gpt-5' and 'gpt-4.1'); use fallbacks for other models"),
        .init(label: "duplicate route names", yaml: """
            routes:
              - { name: a, when: { feature: has_code, eq: true }, target: gpt-5 }
              - { name: a, when: { feature: has_code, eq: false }, target: gpt-5 }
            """ + "\n" + tail, line: 3, key: "routes[1].name", reason: "duplicate route name 'a' (also in r.yaml)"),
        .init(label: "no default", yaml: "routes:\n  - { name: a, when: { feature: has_code, eq: true }, target: gpt-5 }\n", line: nil, key: nil, reason: "no default route: add a route with 'default: true' (it answers when no other matches)"),
        .init(label: "two defaults", yaml: "routes:\n" + tail + "\n  - { name: other, default: true, target: gpt-5 }\n", line: 5, key: "routes[1].default", reason: "a second default route ('default' in r.yaml is the default); keep one"),
        .init(label: "default with when", yaml: "routes:\n  - { name: d, default: true, when: { feature: has_code, eq: true }, target: gpt-5 }\n", line: 2, key: "routes[0].when", reason: "the default route matches every request; remove 'when'"),
        .init(label: "route without when", yaml: "routes:\n  - { name: a, target: gpt-5 }\n" + tail, line: 2, key: "routes[0]", reason: "a route needs 'when' (or 'default: true')"),
        .init(label: "passthrough default with aliases", yaml: "aliases: [auto]\nroutes:\n  - name: d\n    default: true\n    target: passthrough\n", line: 5, key: "routes[0].target", reason: "the default route must name a model when aliases are declared (auto): requests for an alias need a concrete model"),
        .init(label: "target is an alias", yaml: "aliases: [auto]\nroutes:\n  - name: d\n    default: true\n    target: auto\n", line: 5, key: "routes[0].target", reason: "'auto' is an alias; a target names a concrete model"),
        .init(label: "baseline of an undeclared alias", yaml: "aliases: [auto]\nsavings_baselines:\n  smart: gpt-5\nroutes:\n  - { name: d, default: true, target: gpt-5 }\n", line: 3, key: "savings_baselines.smart", reason: "'smart' is not a declared alias (aliases: auto)"),
        .init(label: "baseline that is an alias", yaml: "aliases: [auto, cheap]\nsavings_baselines: { auto: cheap }\nroutes:\n  - { name: d, default: true, target: gpt-5 }\n", line: 2, key: "savings_baselines.auto", reason: "a savings baseline names a concrete model, not the alias 'cheap'"),
        .init(label: "template not last", yaml: """
            routes:
              - name: d
                default: true
                target: gpt-5
                fallbacks: [template: busy, gpt-4.1]
            """, line: 5, key: "routes[0].fallbacks[1]", reason: "the template must be the last fallback"),
        .init(label: "bad duration", yaml: "routes:\n  - name: d\n    default: true\n    target: gpt-5\n    timeouts: { total: soon }\n", line: 5, key: "routes[0].timeouts.total", reason: "'soon' is not a duration (use e.g. 250ms, 10s, 2m)"),
        .init(label: "bad weekday", yaml: "routes:\n  - { name: a, when: { feature: weekday, in: [mon, someday] }, target: gpt-5 }\n" + tail, line: 2, key: "routes[0].when.in", reason: "'weekday' is a weekday: expected a list of mon, tue, wed, thu, fri, sat, sun"),
        .init(label: "exists on a required feature", yaml: "routes:\n  - { name: a, when: { feature: model, exists: true }, target: gpt-5 }\n" + tail, line: 2, key: "routes[0].when.exists", reason: "'model' always has a value; 'exists' applies to optional features"),
        .init(label: "YAML syntax", yaml: "routes:\n  - name: [unclosed\n", line: 3, key: nil, reason: "invalid YAML: while parsing a flow sequence, did not find expected ',' or ']'"),
    ]

    @Test(arguments: errorCases)
    func loadError(_ test: ErrorCase) {
        let error = ruleError(test.yaml)
        #expect(error == ConfigError(file: "r.yaml", line: test.line, key: test.key, reason: test.reason), "\(error.map(String.init(describing:)) ?? "no error")")
    }

    // MARK: - Several files

    @Test func filesMergeInOrder() throws {
        let rules = try compileRules([
            ("00-shared.yaml", """
                aliases: [auto]
                keywords: { reasoning: [prove] }
                complexity: { weights: { keyword.reasoning: 3 }, tiers: { simple: 0, complex: 3 } }
                routes:
                  - { name: from-first, when: { feature: team, eq: a }, target: gpt-4.1 }
                """),
            ("10-more.yaml", """
                aliases: [smart]
                patterns: { sql: 'select' }
                routes:
                  - { name: complex, when: { feature: tier, eq: complex }, target: gpt-5 }
                  - { name: from-second, when: { feature: team, eq: a }, target: gpt-4o }
                  - { name: sql, when: { feature: pattern.sql, eq: true }, target: gpt-4o }
                  - { name: default, default: true, target: gpt-5-mini }
                """),
        ])
        #expect(rules.aliases == ["auto", "smart"])
        #expect(rules.savingsBaselines.isEmpty && rules.savingsBaseline(for: "auto") == nil && rules.savingsBaseline(for: "gpt-4o") == "gpt-4o")
        #expect(rules.routes.map(\.name) == ["from-first", "complex", "from-second", "sql"])
        #expect(rules.routes[1].file == "10-more.yaml" && rules.routes[1].line == 4)
        #expect(rules.evaluate(.init(model: "smart", team: "a")).route == "from-first")
        #expect(rules.evaluate(.init(model: "smart", lastUserMessage: "prove it")).route == "complex")
        #expect(rules.evaluate(.init(model: "auto", lastUserMessage: "select 1")).model == "gpt-4o")
    }

    @Test func definitionsAreUniqueAcrossFiles() {
        let first = ("00.yaml", "keywords: { a: [x] }\ncomplexity: { weights: { has_tools: 1 }, tiers: { s: 0 } }\nroutes:\n  - { name: default, default: true, target: gpt-5 }\n")
        #expect(ruleError([first, ("10.yaml", "keywords:\n  a: [y]\n")])
            == ConfigError(file: "10.yaml", line: 2, key: "keywords.a", reason: "keyword list 'a' is already defined in 00.yaml"))
        #expect(ruleError([first, ("10.yaml", "complexity:\n  weights: { has_tools: 2 }\n  tiers: { s: 0 }\n")])
            == ConfigError(file: "10.yaml", line: 1, key: "complexity", reason: "complexity is already defined in 00.yaml; define it once"))
        #expect(ruleError([first, ("10.yaml", "routes:\n  - { name: default, when: { feature: has_tools, eq: true }, target: gpt-5 }\n")])
            == ConfigError(file: "10.yaml", line: 2, key: "routes[0].name", reason: "duplicate route name 'default' (also in 00.yaml)"))
    }

    @Test func loadsDirectoryInNameOrder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "routes:\n  - { name: default, default: true, target: ${DEFAULT_MODEL:-gpt-5-mini} }\n"
            .write(to: directory.appendingPathComponent("20-default.yml"), atomically: true, encoding: .utf8)
        try "routes:\n  - { name: first, when: { feature: team, eq: a }, target: passthrough }\n"
            .write(to: directory.appendingPathComponent("10-first.yaml"), atomically: true, encoding: .utf8)
        try "not: [yaml".write(to: directory.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let rules = try CompiledRoutingRules.load(directory: directory.path, environment: ["DEFAULT_MODEL": "gpt-4.1"])
        #expect(rules.files.map { ($0 as NSString).lastPathComponent } == ["10-first.yaml", "20-default.yml"])
        #expect(rules.defaultRoute.target == .model("gpt-4.1"))

        try "routes:\n  - { name: broken, when: { feature: nope, eq: 1 }, target: gpt-5 }\n"
            .write(to: directory.appendingPathComponent("15-broken.yaml"), atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try CompiledRoutingRules.load(directory: directory.path, environment: [:]) }
        do {
            _ = try CompiledRoutingRules.load(directory: directory.path, environment: [:])
        } catch {
            #expect(error.file.hasSuffix("15-broken.yaml") && error.line == 2 && error.key == "routes[0].when.feature")
        }
        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(throws: ConfigError(file: empty.path, reason: "no rules files (*.yaml); at least one must define the default route")) {
            try CompiledRoutingRules.load(directory: empty.path, environment: [:])
        }
    }

    /// The gateway looks budgets up before routing only for rules that read them.
    @Test func rulesSayWhetherTheyReadTheBudget() throws {
        #expect(try !compileRules("routes:\n  - { name: a, when: { feature: has_code, eq: true }, target: gpt-5 }\n" + Self.tail).readsBudgetUsedPercent)
        #expect(try compileRules("routes:\n  - { name: a, when: { not: { feature: budget_used_pct, lt: 80 } }, target: gpt-5 }\n" + Self.tail).readsBudgetUsedPercent)
        let weighed = "complexity:\n  weights: { budget_used_pct: 1 }\n  tiers: { low: 0, high: 50 }\nroutes:\n" + Self.tail
        #expect(try compileRules(weighed).readsBudgetUsedPercent)
    }
}
