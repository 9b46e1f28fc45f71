import Foundation
import Testing
@testable import TollgateCore

/// `routes replay`: what the ledger records of a request's features, and what replaying it
/// through other rules reports.
@Suite struct RouteReplayTests {
    static let rulesYAML = """
        aliases: [auto]
        keywords: { reasoning: [prove, debug] }
        patterns: { sql: '(?is)\\bselect\\b.+\\bfrom\\b' }
        routes:
          - name: hard
            when: { any: [ { feature: keyword.reasoning, eq: true }, { feature: pattern.sql, eq: true } ] }
            target: big
          - name: default
            default: true
            target: small
        """

    static func features(_ prompt: String, system: String = "", tokens: Int = 100) -> RequestFeatures {
        RequestFeatures(
            model: "auto", promptTokens: tokens, messageCount: 2, lastUserMessage: prompt, systemPrompt: system,
            keyName: "web", keyID: "k1", team: "growth", user: "alice", tags: RoutingTags(["env": "prod"]), hour: 9, weekday: 2
        )
    }

    @Test func theRecordKeepsEveryFeatureButTheText() throws {
        let rules = try compileRules(Self.rulesYAML)
        let secret = "Please debug: select password from users where name = 'zq-private'"
        let (decision, json) = rules.evaluateRecording(Self.features(secret, system: "be terse"), budgetKnown: false)
        #expect(decision.route == "hard" && decision.model == "big")
        #expect(!json.contains("zq-private") && !json.contains("password") && !json.contains("terse"))
        let record = try #require(RecordedFeatures(ledgerJSON: json))
        #expect(record.route == "hard" && record.routedModel == "big" && record.model == "auto")
        #expect(record.promptTokens == 100 && record.messages == 2 && record.key == "web" && record.team == "growth")
        #expect(record.tags == ["env": "prod"] && record.hour == 9 && record.weekday == 2 && !record.budgetKnown)
        // Both text features the rules read, named with a fingerprint of their definition.
        #expect(record.text.count == 2)
        #expect(record.text.contains { $0.key.hasPrefix("keyword.reasoning#") && $0.value })
        #expect(record.text.contains { $0.key.hasPrefix("pattern.sql#") && $0.value })
        // The same rules replayed decide the same, with nothing unknown.
        let replayed = rules.replay(record.requestFeatures)
        #expect(replayed.decision.route == "hard" && replayed.unrecordedText.isEmpty)
        // Plain evaluation agrees with the recording one.
        #expect(rules.evaluate(Self.features(secret)).route == "hard")
        #expect(rules.evaluate(Self.features("hello")).route == "default")
    }

    @Test func theRecordEscapesWhatItQuotes() throws {
        let rules = try compileRules(Self.rulesYAML)
        var features = Self.features("hello")
        features.user = "al\"ice\\\n\u{1}é"
        features.tags = RoutingTags(["q\"": "a,b \\ \u{7f}"])
        features.maxTokens = 512
        features.budgetUsedPercent = 91.5
        let record = try #require(RecordedFeatures(ledgerJSON: rules.evaluateRecording(features, budgetKnown: true).record))
        #expect(record.user == features.user && record.tags == ["q\"": "a,b \\ \u{7f}"])
        #expect(record.maxTokens == 512 && record.budgetUsedPct == 91.5 && record.budgetKnown)
    }

    @Test func anEditedKeywordListIsNotMistakenForTheRecordedOne() throws {
        let recorded = try compileRules(Self.rulesYAML)
        let (_, json) = recorded.evaluateRecording(Self.features("what time is it"), budgetKnown: false)
        let record = try #require(RecordedFeatures(ledgerJSON: json))
        #expect(record.text.values.allSatisfy { !$0 })
        // Same name, one more phrase: the recorded outcome does not say whether "time" matched.
        let edited = try compileRules(Self.rulesYAML.replacingOccurrences(of: "[prove, debug]", with: "[prove, debug, time]"))
        let replayed = edited.replay(record.requestFeatures)
        #expect(replayed.unrecordedText.count == 1 && replayed.unrecordedText[0].hasPrefix("keyword.reasoning#"))
        #expect(replayed.decision.route == "default")
        // Reordered phrases and other case are the same list.
        let reordered = try compileRules(Self.rulesYAML.replacingOccurrences(of: "[prove, debug]", with: "[DEBUG, prove]"))
        #expect(reordered.replay(record.requestFeatures).unrecordedText.isEmpty)
    }

    @Test func replaySumsMovesAndPricesTheRecordedTokensOnBothModels() throws {
        let recorded = try compileRules(Self.rulesYAML)
        // The candidate sends SQL to the small model and everything else as before.
        let candidate = try compileRules(Self.rulesYAML.replacingOccurrences(
            of: "{ any: [ { feature: keyword.reasoning, eq: true }, { feature: pattern.sql, eq: true } ] }",
            with: "{ feature: keyword.reasoning, eq: true }"
        ))
        let prices = PriceBook(prices: [
            "big": ModelPrice(inputPerMillion: 10, outputPerMillion: 30), "small": ModelPrice(inputPerMillion: 1, outputPerMillion: 2),
        ])
        var replay = RouteReplay(rules: candidate, prices: prices)
        func entry(_ prompt: String, input: Int, output: Int, cache: LedgerEntry.CacheStatus = .miss, record: Bool = true) -> LedgerEntry {
            let (decision, json) = recorded.evaluateRecording(Self.features(prompt), budgetKnown: false)
            return LedgerEntry(
                timeMs: 0, requestID: UUID().uuidString, route: decision.route, requestedModel: "auto", servedModel: decision.model,
                inputTokens: input, outputTokens: output, cacheStatus: cache, httpStatus: 200, latencyMs: 5, featuresJSON: record ? json : nil
            )
        }
        replay.add(entry("select a from b", input: 1000, output: 100))  // hard/big -> default/small
        replay.add(entry("select c from d", input: 2000, output: 200))  // hard/big -> default/small
        replay.add(entry("select c from d", input: 2000, output: 200, cache: .exact))  // moves, not priced
        replay.add(entry("debug this", input: 500, output: 50))  // stays on hard/big
        replay.add(entry("hello", input: 10, output: 10))  // stays on default/small
        replay.add(entry("hello", input: 10, output: 10, record: false))  // an old row
        #expect(replay.replayed == 5 && replay.unrecorded == 1 && replay.cacheHits == 1 && replay.movedRequests == 3)
        #expect(replay.undeterminedRequests == 0 && replay.unpricedModels.isEmpty)

        let moves = replay.result
        let sql = try #require(moves.first)
        #expect(sql.fromRoute == "hard" && sql.fromModel == "big" && sql.toRoute == "default" && sql.toModel == "small" && sql.requests == 3)
        // 3000 input and 300 output tokens: 0.03 + 0.009 on big, 0.003 + 0.0006 on small.
        #expect(sql.costBeforeNanos == 39_000_000 && sql.costAfterNanos == 3_600_000)
        #expect(moves.count == 3 && moves.dropFirst().allSatisfy { !$0.moved })
        let (before, after) = replay.totals
        // Plus debug (0.005 + 0.0015 on big both ways) and hello (0.00001 + 0.00002 on small).
        #expect(before.nanos == 39_000_000 + 6_500_000 + 30_000 && after.nanos == 3_600_000 + 6_500_000 + 30_000)

        let table = replay.table(rulesDescription: "candidate", period: "since then")
        #expect(table.contains("Would move: 3 of 5 (60.0%)"))
        #expect(table.contains("Skipped 1 ledger rows"))
        #expect(table.contains("-0.035400 USD"))
        let json = try JSONSerialization.jsonObject(with: Data(replay.json().utf8)) as? [String: Any]
        #expect(json?["moved"] as? Int == 3 && json?["cost_before_nanos"] as? Int == 45_530_000)
    }

    @Test func requestsThatReadWhatWasNotRecordedAreCountedAsUndetermined() throws {
        let recorded = try compileRules(Self.rulesYAML)
        let candidate = try compileRules((Self.rulesYAML + """

              - name: near-budget
                priority: 10
                when: { feature: budget_used_pct, gte: 90 }
                target: small
            """).replacingOccurrences(of: "keywords: { reasoning: [prove, debug] }", with: "keywords: { reasoning: [prove, debug], greet: [hello] }")
            .replacingOccurrences(of: "target: big", with: "target: big\n  - name: greet\n    when: { feature: keyword.greet, eq: true }\n    target: small"))
        var replay = RouteReplay(rules: candidate, prices: .empty)
        let (_, json) = recorded.evaluateRecording(Self.features("hello"), budgetKnown: false)
        replay.add(LedgerEntry(timeMs: 0, requestID: "r1", httpStatus: 200, latencyMs: 5, featuresJSON: json))
        #expect(replay.undeterminedRequests == 1)
        #expect(replay.undetermined["budget_used_pct"] == 1)
        #expect(replay.undetermined.keys.contains { $0.hasPrefix("keyword.greet#") })
        #expect(replay.unpricedModels == ["small": 1])
        #expect(replay.table(rulesDescription: "c", period: "p").contains("Undetermined: 1 requests"))
    }
}
