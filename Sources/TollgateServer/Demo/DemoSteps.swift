import Foundation
import NIOCore
import TollgateUpstream

/// The tour's traffic: each step sends requests through the gateway, narrates the headers
/// that show what happened, and checks them.
struct DemoSteps {
    let client: UpstreamClient
    let gateway: String
    let provider: SimulatedProvider
    let say: @Sendable (String) -> Void
    /// Requests sent (each gets a ledger row) and steps that did not show what they should.
    private(set) var sent = 0
    private(set) var failures = 0

    init(client: UpstreamClient, gateway: String, provider: SimulatedProvider, say: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.gateway = gateway
        self.provider = provider
        self.say = say
    }

    struct Reply {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: String

        func header(_ name: String) -> String {
            self.headers.first { $0.name.lowercased() == name.lowercased() }?.value ?? "-"
        }

        /// The headers that tell what the gateway did.
        var summary: String {
            let names = ["X-Tollgate-Route", "X-Tollgate-Model", "X-Tollgate-Cache", "X-Tollgate-Fallback", "X-Tollgate-Cost-USD"]
            return "\(self.status)  " + names.map { "\($0.dropFirst(11).lowercased())=\(self.header($0))" }.joined(separator: " ")
        }
    }

    mutating func run(app: String, limited: String, budgeted: String, semantic: Bool) async throws -> Int {
        self.say("Tollgate demo: a gateway on the built-in configuration, in front of a simulated OpenAI-compatible provider.")

        self.step("1. Routing: an easy question to the `auto` alias goes to the small model")
        let easy = #"{"model":"auto","messages":[{"role":"user","content":"What is the capital of France?"}]}"#
        var reply = try await self.chat(easy, key: app)
        self.check(reply, "route auto-simple, model gpt-5-mini") { $0.header("X-Tollgate-Route") == "auto-simple" && $0.header("X-Tollgate-Model") == "gpt-5-mini" }

        self.step("2. Routing: a hard one (reasoning words, code blocks) goes to the large model")
        let hard = #"{"model":"auto","messages":[{"role":"user","content":"Debug this step by step and find the root cause:\n```\nSELECT * FROM orders o JOIN items i ON i.order_id = o.id\n```\n```\nfor o in orders: load(o.items)\n```"}]}"#
        reply = try await self.chat(hard, key: app)
        self.check(reply, "route auto-complex, model gpt-5") { $0.header("X-Tollgate-Route") == "auto-complex" && $0.header("X-Tollgate-Model") == "gpt-5" }

        self.step("3. Exact cache: the easy question again is answered from the cache, at no cost")
        reply = try await self.chat(easy, key: app)
        self.check(reply, "cache exact, cost 0") { $0.header("X-Tollgate-Cache") == "exact" && Double($0.header("X-Tollgate-Cost-USD")) == 0 }

        self.step("4. Semantic cache: a question, then the same question in other words")
        if semantic {
            _ = try await self.chat(#"{"model":"auto","messages":[{"role":"user","content":"How can I improve my English speaking skills?"}]}"#, key: app)
            reply = try await self.chat(#"{"model":"auto","messages":[{"role":"user","content":"How do I improve my English speaking skills?"}]}"#, key: app)
            self.check(reply, "cache semantic, with its similarity") { $0.header("X-Tollgate-Cache") == "semantic" }
            self.say("   similarity=\(reply.header("X-Tollgate-Cache-Similarity"))")
        } else {
            self.say("   skipped: the embedding model is not installed here (scripts/setup-model.sh installs it)")
        }

        self.step("5. A stream, relayed chunk by chunk and billed from its usage")
        reply = try await self.chat(#"{"model":"auto","stream":true,"messages":[{"role":"user","content":"Name three rivers."}]}"#, key: app)
        let events = reply.body.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.count
        self.say("   \(events) server-sent events, the last one [DONE]; a stream's cost is known at its end: see the report below")
        self.check(reply, "a stream that ends with [DONE]") { $0.status == 200 && $0.body.contains("data: [DONE]") && events > 3 }

        self.step("6. Fallback to a smaller model: gpt-5 is down, `smart` (gpt-5) is answered by its first fallback")
        self.provider.setDown(["gpt-5"])
        reply = try await self.chat(#"{"model":"smart","messages":[{"role":"user","content":"Summarise the plan."}]}"#, key: app)
        self.check(reply, "fallback smaller-model, model gpt-4.1") { $0.header("X-Tollgate-Fallback") == "smaller-model" && $0.header("X-Tollgate-Model") == "gpt-4.1" }

        self.step("7. Fallback to a template: every model of the chain is down; the app still gets a valid answer")
        self.provider.setDown(["gpt-5", "gpt-4.1", "gpt-5-mini", "gpt-5-nano"])
        reply = try await self.chat(#"{"model":"smart","messages":[{"role":"user","content":"Summarise the plan again."}]}"#, key: app)
        self.check(reply, "fallback template, status 200") { $0.status == 200 && $0.header("X-Tollgate-Fallback") == "template" }
        self.provider.setDown([])

        self.step("8. Rate limit: a key allowed 2 requests a minute sends 3")
        var statuses: [Int] = []
        for index in 1...3 {
            reply = try await self.chat(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"ping \#(index)"}]}"#, key: limited)
            statuses.append(reply.status)
        }
        self.say("   statuses \(statuses.map(String.init).joined(separator: ", ")); Retry-After: \(reply.header("Retry-After"))s")
        self.check(reply, "the third gets 429 rate_limit_exceeded") { $0.status == 429 && $0.body.contains("rate_limit_exceeded") }

        self.step("9. Budget stop: a key with a $0.003 daily budget asks gpt-5 until the gateway refuses")
        var answered = 0
        for index in 1...30 {
            reply = try await self.chat(#"{"model":"gpt-5","max_tokens":200,"messages":[{"role":"user","content":"question \#(index)"}]}"#, key: budgeted)
            if reply.status != 200 { break }
            answered += 1
        }
        self.say("   \(answered) answered, then: \(reply.status) \(reply.body.contains("budget_exceeded") ? "budget_exceeded" : reply.body.prefix(120))")
        self.check(reply, "refused with 429 budget_exceeded before spending past the budget") { $0.status == 429 && $0.body.contains("budget_exceeded") }
        return self.sent
    }

    private func step(_ title: String) {
        self.say("\n" + title)
    }

    private mutating func check(_ reply: Reply, _ expectation: String, _ holds: (Reply) -> Bool) {
        self.say("   " + reply.summary)
        if holds(reply) {
            self.say("   ok: \(expectation)")
        } else {
            self.failures += 1
            self.say("   NOT AS EXPECTED: \(expectation)\n   body: \(reply.body.prefix(300))")
        }
    }

    private mutating func chat(_ body: String, key: String) async throws -> Reply {
        self.sent += 1
        let response = try await self.client.execute(UpstreamRequest(
            method: "POST", url: self.gateway + "/v1/chat/completions",
            headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
            body: ByteBuffer(string: body), timeouts: .init(total: .seconds(30))
        ))
        let buffer = try await response.collectBody(upTo: 1 << 20)
        return Reply(status: response.status, headers: response.headers, body: String(buffer: buffer))
    }
}
