import Foundation
import Synchronization
import Testing
import TollgateCore
import TollgateTestSupport

/// Prices, rate limits and daily budgets through a live gateway.
@Suite struct CostControlTests {
    static let hello = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello there"}],"max_tokens":50}"#

    static func json(_ reply: TestHTTPClient.Reply) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
    }

    @Test func everyAnswerCarriesItsCostFromTheProvidersUsage() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(Self.hello)
            #expect(reply.status == 200)
            let usage = try #require(try Self.json(reply)["usage"] as? [String: Any])
            let prompt = try #require(usage["prompt_tokens"] as? Int), completion = try #require(usage["completion_tokens"] as? Int)
            // gpt-4o-mini: $0.15 in, $0.60 out per million tokens.
            let expected = ModelPrice(inputPerMillion: 0.15, outputPerMillion: 0.6).cost(of: TokenUsage(inputTokens: prompt, outputTokens: completion))
            #expect(reply.header("X-Tollgate-Cost-USD") == expected.description)
            #expect(expected > .zero)
            // No limits on this key: no rate-limit headers to report.
            #expect(reply.header("x-ratelimit-limit-requests") == nil)
        }
    }

    @Test func streamsAskTheProviderForUsageAndHideItFromClientsThatDidNot() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(reply.status == 200)
            let sent = try #require(gateway.provider.received.last?.json)
            #expect((sent["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
            let payloads = ssePayloads(String(decoding: reply.body, as: UTF8.self))
            #expect(payloads.last == "[DONE]")
            #expect(!payloads.contains { $0.contains(#""usage":{"#) })
        }
    }

    @Test func requestsPerMinuteOnTheKey() async throws {
        // The same request repeated on purpose: the cache would answer it.
        try await GatewayHarness.run(keyLimits: (rpm: 3, tpm: nil, maxConcurrent: nil, dailyBudgetUSD: nil), configure: { $0.cache.mode = .off }) { gateway in
            var remaining: [String?] = []
            for _ in 0..<3 {
                let reply = try await gateway.chat(Self.hello)
                #expect(reply.status == 200)
                #expect(reply.header("x-ratelimit-limit-requests") == "3")
                remaining.append(reply.header("x-ratelimit-remaining-requests"))
            }
            #expect(remaining == ["2", "1", "0"])
            let refused = try await gateway.chat(Self.hello)
            #expect(refused.status == 429)
            let error = try #require(try Self.json(refused)["error"] as? [String: Any])
            #expect(error["code"] as? String == "rate_limit_exceeded")
            #expect((error["message"] as? String)?.contains("key 'test-app'") == true)
            let retryAfter = try #require(refused.header("Retry-After").flatMap(Int.init))
            #expect(retryAfter >= 1 && retryAfter <= 20)
            #expect(refused.header("x-ratelimit-remaining-requests") == "0")
            // The refused request never reached the provider.
            #expect(gateway.provider.received.count == 3)
        }
    }

    @Test func tokensPerMinuteCountsThePromptAndTheOutputCap() async throws {
        try await GatewayHarness.run(keyLimits: (rpm: nil, tpm: 1000, maxConcurrent: nil, dailyBudgetUSD: nil)) { gateway in
            let ok = try await gateway.chat(Self.hello)
            #expect(ok.status == 200)
            #expect(ok.header("x-ratelimit-limit-tokens") == "1000")
            let remaining = try #require(ok.header("x-ratelimit-remaining-tokens").flatMap(Int.init))
            #expect(remaining < 1000 - 50)
            let huge = try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":5000}"#)
            #expect(huge.status == 429)
            let error = try #require(try Self.json(huge)["error"] as? [String: Any])
            #expect((error["message"] as? String)?.contains("Request too large") == true)
        }
    }

    @Test func concurrentRequestsPerTeam() async throws {
        let limits = "teams:\n  qa: { max_concurrent: 1 }\n"
        try await GatewayHarness.run(budgets: ["limits.yaml": limits]) { gateway in
            // The provider holds the first request until the test has seen the second refused.
            let gate = ProviderGate()
            defer { gate.open() }
            gateway.provider.setBehavior(.held(gate), forModel: "gpt-4o")
            async let slow = gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"slow"}]}"#)
            // The held request has the team's only slot once it reached the provider.
            await gate.waitForArrivals(1)
            let refused = try await gateway.chat(Self.hello)
            #expect(refused.status == 429)
            let error = try #require(try Self.json(refused)["error"] as? [String: Any])
            #expect((error["message"] as? String)?.contains("concurrent requests") == true)
            gate.open()
            #expect(try await slow.status == 200)
            // The slot is free again once the slow request finished.
            #expect(try await gateway.chat(Self.hello).status == 200)
        }
    }

    @Test func twoHundredConcurrentRequestsNeverOverspendAUsersBudget() async throws {
        // Each request reserves its worst case (prompt estimate + 50 output tokens at the
        // house model's price) and costs less: the budget covers about 50 of them.
        let perRequest = ModelPrice(inputPerMillion: 1, outputPerMillion: 2).worstCaseCost(inputTokens: 20, maxOutputTokens: 50)
        let budget = USD(nanos: perRequest.nanos * 50)
        let limits = "users:\n  carol: { daily_budget_usd: \(budget.description) }\n"
        try await GatewayHarness.run(budgets: ["limits.yaml": limits]) { gateway in
            // The provider holds every admitted request until all 200 were either admitted or
            // refused, so every admitted one still holds its reservation while the others are
            // claimed: the 200 really are in flight together, however slow the machine.
            let gate = ProviderGate()
            defer { gate.open() }
            gateway.provider.setBehavior(.held(gate), forModel: "gpt-4o-mini")
            let body = #"{"model":"house-model","user":"carol","messages":[{"role":"user","content":"spend"}],"max_tokens":50}"#
            let refusedSoFar = RefusalCount()
            let replies = try await withThrowingTaskGroup(of: TestHTTPClient.Reply?.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        let reply = try await gateway.chat(body)
                        if reply.status != 200 { refusedSoFar.add() }
                        return reply
                    }
                }
                group.addTask {
                    let settled = await waitUntil(within: .seconds(120)) { gate.arrivals + refusedSoFar.value == 200 }
                    #expect(settled, "every request should have reached the provider or been refused")
                    gate.open()
                    return nil
                }
                return try await group.reduce(into: [TestHTTPClient.Reply]()) { if let reply = $1 { $0.append(reply) } }
            }
            let served = replies.filter { $0.status == 200 }
            let refused = replies.filter { $0.status == 429 }
            #expect(served.count + refused.count == 200)
            #expect(served.count >= 40, "the budget should cover about 50 requests")
            #expect(!refused.isEmpty)
            for reply in refused {
                let error = try #require(try Self.json(reply)["error"] as? [String: Any])
                #expect(error["code"] as? String == "budget_exceeded")
                #expect(reply.header("Retry-After") != nil)
            }
            let charged = served.compactMap { $0.header("X-Tollgate-Cost-USD").map { USD(dollars: Double($0)!) } }.reduce(.zero, +)
            #expect(charged <= budget)
            // Another user of the same key is not affected.
            let other = try await gateway.chat(#"{"model":"house-model","user":"dave","messages":[{"role":"user","content":"hi"}],"max_tokens":50}"#)
            #expect(other.status == 200)
        }
    }
}

@Suite struct BudgetRoutingTests {
    @Test func routingMovesAUserNearTheirBudgetToACheaperModel() async throws {
        // One gpt-4o request uses most of frank's budget; the next goes to gpt-4o-mini.
        let limits = "users:\n  frank: { daily_budget_usd: 0.0004 }\n"
        try await GatewayHarness.run(budgets: ["limits.yaml": limits]) { gateway in
            try gateway.writeRoutes("""
                routes:
                  - name: budget-downgrade
                    when: { feature: budget_used_pct, gte: 30 }
                    target: gpt-4o-mini
                    override_concrete_model: true
                  - name: default
                    default: true
                    target: passthrough
                """)
            #expect(try await gateway.adminReload().status == 200)
            let body = #"{"model":"gpt-4o","user":"frank","messages":[{"role":"user","content":"a question of some length to spend money"}],"max_tokens":20}"#
            let first = try await gateway.chat(body)
            #expect(first.status == 200)
            #expect(first.header("X-Tollgate-Route") == "default" && first.header("X-Tollgate-Model") == "gpt-4o")
            // Settlement runs just after the response: give it a moment.
            var second = try await gateway.chat(body)
            for _ in 0..<20 where second.header("X-Tollgate-Route") != "budget-downgrade" {
                try await Task.sleep(for: .milliseconds(50))
                second = try await gateway.chat(body)
            }
            #expect(second.status == 200)
            #expect(second.header("X-Tollgate-Route") == "budget-downgrade" && second.header("X-Tollgate-Model") == "gpt-4o-mini")
        }
    }
}

/// Requests built to break the accounting.
@Suite struct CostControlAbuseTests {
    @Test func absurdMaxTokensNeitherCrashesNorSlipsPastABudget() async throws {
        let limits = "users:\n  mallory: { daily_budget_usd: 1 }\n"
        try await GatewayHarness.run(budgets: ["limits.yaml": limits]) { gateway in
            for maxTokens in ["9223372036854775807", "1000000000000000", "922337203685477"] {
                let reply = try await gateway.chat(#"{"model":"gpt-5","user":"mallory","messages":[{"role":"user","content":"hi"}],"max_tokens":\#(maxTokens)}"#)
                #expect(reply.status == 429, "max_tokens \(maxTokens)")
                #expect(reply.errorField.code == "budget_exceeded")
                // A refusal still names the route and model, and costs nothing.
                #expect(reply.header("X-Tollgate-Cost-USD") == "0.000000" && reply.header("X-Tollgate-Model") == "gpt-5")
            }
            // Without a budget the gateway relays it (the provider judges max_tokens) and keeps serving.
            let unlimited = try await gateway.chat(#"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}],"max_tokens":9223372036854775807}"#)
            #expect(unlimited.status == 200)
            #expect(try await gateway.chat(#"{"model":"gpt-4o-mini","user":"mallory","messages":[{"role":"user","content":"hi"}],"max_tokens":10}"#).status == 200)
        }
    }

    @Test func aBudgetedRequestWithoutMaxTokensIsCappedAtWhatItReserved() async throws {
        let limits = "default_output_reservation: 512\nusers:\n  nina: { daily_budget_usd: 5 }\n"
        try await GatewayHarness.run(budgets: ["limits.yaml": limits], configure: { $0.cache.mode = .off }) { gateway in
            #expect(try await gateway.chat(#"{"model":"gpt-4o-mini","user":"nina","messages":[{"role":"user","content":"hi"}]}"#).status == 200)
            let sent = try #require(gateway.provider.received.last?.json)
            #expect(sent["max_completion_tokens"] as? Int == 512)
            // No budget applies to other users: their request goes through untouched.
            #expect(try await gateway.chat(#"{"model":"gpt-4o-mini","user":"omar","messages":[{"role":"user","content":"hi"}]}"#).status == 200)
            #expect(gateway.provider.received.last?.json?["max_completion_tokens"] == nil)
        }
    }

    @Test func aRepeatedRequestIDDoesNotShareAConcurrencySlot() async throws {
        try await GatewayHarness.run(keyLimits: (rpm: nil, tpm: nil, maxConcurrent: 1, dailyBudgetUSD: nil)) { gateway in
            let gate = ProviderGate()
            defer { gate.open() }
            gateway.provider.setBehavior(.held(gate), forModel: "gpt-4o")
            let sameID = [("X-Tollgate-Request-Id", "client-chosen-1")]
            async let slow = gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"slow"}]}"#, headers: sameID)
            await gate.waitForArrivals(1)
            let second = try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"again"}]}"#, headers: sameID)
            #expect(second.status == 429)
            gate.open()
            #expect(try await slow.status == 200)
        }
    }
}

/// Replies refused so far, counted from the tasks that sent them.
private final class RefusalCount: Sendable {
    private let count = Mutex(0)
    var value: Int { self.count.withLock { $0 } }
    func add() { self.count.withLock { $0 += 1 } }
}
