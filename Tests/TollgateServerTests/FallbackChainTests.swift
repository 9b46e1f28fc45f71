import Foundation
import Testing
@testable import TollgateCore
import TollgateTestSupport

/// The fallback chain against a fake provider that fails on cue: retries, other
/// deployments, smaller models, templates, first-byte timeouts and honest streams. Each
/// test checks what the client got (status, headers, body), what the ledger recorded and
/// what was charged. No test waits on the clock: hung providers are held by a gate and
/// first-byte timeouts are far shorter than any hold.
@Suite struct FallbackChainTests {
    /// `gpt-5` falls back to `gpt-4.1-mini`, then the `busy` template.
    static let routes = """
        routes:
          - name: chain
            when: { feature: model, eq: gpt-5 }
            target: gpt-5
            retries: 1
            fallbacks: [gpt-4.1-mini, template: busy]
            timeouts: { total: 60s }
          # A held provider never answers, so this timeout only has to be far above how long
          # a loaded machine takes to answer normally.
          - name: first-byte
            when: { feature: model, eq: gpt-4.1 }
            target: gpt-4.1
            fallbacks: [gpt-4.1-mini]
            timeouts: { first_byte: 10s }
          - name: no-template
            when: { feature: model, eq: gpt-5-mini }
            target: gpt-5-mini
            fallbacks: [gpt-4.1-nano]
          - name: two-deployments
            when: { feature: model, eq: gpt-5-nano }
            target: { deployments: [ { model: gpt-5-nano, provider: dead, name: dead-nano }, { model: gpt-5-nano, provider: openai } ] }
            retries: 0
          - { name: default, default: true, target: passthrough }
        """

    static func withChain(_ body: @Sendable (GatewayHarness) async throws -> Void) async throws {
        try await GatewayHarness.run(configure: { config in
            // Nothing listens on port 1: connecting is refused at once.
            config.providers["dead"] = ProviderConfig(baseURL: "http://127.0.0.1:1/v1", apiKeyEnvironmentVariable: "TEST_OPENAI_KEY")
        }) { gateway in
            try gateway.writeRoutes(Self.routes)
            #expect(try await gateway.adminReload().status == 200)
            try await body(gateway)
        }
    }

    static func ask(_ model: String, stream: Bool = false, prompt: String = "hello") -> String {
        #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"\#(prompt)"}]}"#
    }

    /// Tokens of `text` as the gateway counts a model's output: its tokenizer when the rank
    /// files are set up, else the byte estimate.
    static func outputTokens(_ text: String, model: String) -> Int {
        (try? Tokenizers.shared().counter(forModel: model).count(text)) ?? PromptTokenEstimator.tokens(utf8Bytes: text.utf8.count)
    }

    static func row(_ gateway: GatewayHarness, for reply: TestHTTPClient.Reply) async throws -> LedgerEntry {
        let id = try #require(reply.header("X-Tollgate-Request-Id"))
        var found: LedgerEntry?
        let recorded = await waitUntil {
            found = try? LedgerDatabase.openIfPresent(path: gateway.dataDirectory + "/ledger.sqlite")?.entries().first { $0.requestID == id }
            return found != nil
        }
        #expect(recorded, "no ledger row for \(id)")
        return try #require(found)
    }

    static func content(_ reply: TestHTTPClient.Reply) throws -> String? {
        let json = try #require(JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
        let choices = try #require(json["choices"] as? [[String: Any]])
        return (choices.first?["message"] as? [String: Any])?["content"] as? String
    }

    @Test func aFailedAttemptIsRetriedOnTheSameModel() async throws {
        try await Self.withChain { gateway in
            gateway.provider.setBehavior(.sequence([.error(status: 503, type: "server_error", code: nil, message: "down"), .normal]), forModel: "gpt-5")
            let reply = try await gateway.chat(Self.ask("gpt-5"))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Fallback") == "retry")
            #expect(reply.header("X-Tollgate-Model") == "gpt-5")
            #expect(try Self.content(reply) == "Echo: hello")
            #expect(gateway.provider.received(forModel: "gpt-5").count == 2)
            let row = try await Self.row(gateway, for: reply)
            #expect(row.attempts == 2 && row.fallback == .retry && row.httpStatus == 200 && row.servedModel == "gpt-5")
            #expect(row.attemptErrors == "gpt-5@openai: status_503")
            #expect(row.costNanodollars > 0 && USD(nanos: row.costNanodollars).description == reply.header("X-Tollgate-Cost-USD"))
        }
    }

    @Test func anOverloadedModelFallsBackToTheSmallerOne() async throws {
        try await Self.withChain { gateway in
            gateway.provider.setBehavior(.overloaded, forModel: "gpt-5")
            let reply = try await gateway.chat(Self.ask("gpt-5"))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Fallback") == "smaller-model")
            #expect(reply.header("X-Tollgate-Model") == "gpt-4.1-mini")
            // One try and one retry of gpt-5, then the fallback.
            #expect(gateway.provider.received.compactMap { $0.json?["model"] as? String } == ["gpt-5", "gpt-5", "gpt-4.1-mini"])
            let row = try await Self.row(gateway, for: reply)
            #expect(row.servedModel == "gpt-4.1-mini" && row.fallback == .smallerModel && row.attempts == 3)
            // Charged at the model that answered: gpt-4.1-mini's price, from its usage.
            let price = ModelPrice(inputPerMillion: 2.00, cachedInputPerMillion: 0.50, outputPerMillion: 8.00)  // "gpt-4.1*" in the harness
            #expect(row.costNanodollars == price.cost(of: TokenUsage(inputTokens: row.inputTokens, outputTokens: row.outputTokens)).nanos)
        }
    }

    @Test func aProviderSilentPastTheFirstByteTimeoutIsLeftForTheNextModel() async throws {
        try await Self.withChain { gateway in
            let gate = ProviderGate()
            defer { gate.open() }
            gateway.provider.setBehavior(.held(gate), forModel: "gpt-4.1")
            for stream in [false, true] {
                let reply = try await gateway.chat(Self.ask("gpt-4.1", stream: stream))
                #expect(reply.status == 200)
                #expect(reply.header("X-Tollgate-Fallback") == "smaller-model")
                #expect(reply.header("X-Tollgate-Model") == "gpt-4.1-mini")
                if stream { #expect(reply.text.contains("Echo: hello") || reply.text.contains("hello")) }
                let row = try await Self.row(gateway, for: reply)
                #expect(row.attemptErrors == "gpt-4.1@openai: first_byte_timeout")
            }
            // A first-byte timeout moves on: no retry of the silent model.
            #expect(gate.arrivals == 2)
        }
    }

    @Test func aStreamCutBeforeItsFirstContentFallsBackInvisibly() async throws {
        try await Self.withChain { gateway in
            gateway.provider.setBehavior(.cutStream(afterChunks: 0), forModel: "gpt-5")
            let reply = try await gateway.chat(Self.ask("gpt-5", stream: true))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Model") == "gpt-4.1-mini")
            let events = ssePayloads(reply.text)
            #expect(events.last == "[DONE]")
            #expect(!reply.text.contains("error"))
            // The client's stream is gpt-4.1-mini's alone: no word of the cut attempts.
            #expect(events.dropLast().allSatisfy { $0.contains(#""model":"gpt-4.1-mini""#) })
            let row = try await Self.row(gateway, for: reply)
            #expect(row.httpStatus == 200 && !row.truncated && row.attempts == 3)
        }
    }

    @Test func aStreamCutAfterContentEndsWithAnErrorAndIsMarkedTruncated() async throws {
        try await Self.withChain { gateway in
            gateway.provider.setBehavior(.cutStream(afterChunks: 2), forModel: "gpt-5")
            let reply = try await gateway.chat(Self.ask("gpt-5", stream: true))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Model") == "gpt-5")
            let events = ssePayloads(reply.text)
            // Content, then an explicit error chunk: never a clean end, never another model's words.
            #expect(events.contains { $0.contains("word0") })
            #expect(events.last?.contains(#""error""#) == true)
            #expect(!reply.text.contains("gpt-4.1-mini"))
            #expect(gateway.provider.received(forModel: "gpt-4.1-mini").isEmpty)
            let row = try await Self.row(gateway, for: reply)
            #expect(row.truncated && row.httpStatus == 502)
            // Billed for what was relayed, not the reservation: the prompt as the gateway
            // counted it, and the relayed text's tokens since the provider never reported usage.
            #expect(row.inputTokens > 0 && row.outputTokens == Self.outputTokens("word0 word1", model: "gpt-5"))
            let price = ModelPrice(inputPerMillion: 1.25, cachedInputPerMillion: 0.125, outputPerMillion: 10.00)  // "gpt-5*" in the harness
            #expect(row.costNanodollars == price.cost(of: TokenUsage(inputTokens: row.inputTokens, outputTokens: row.outputTokens)).nanos)
        }
    }

    @Test func aClientThatLeavesMidStreamIsBilledTheTokensItReceived() async throws {
        try await Self.withChain { gateway in
            gateway.provider.setBehavior(.slowStream(chunks: 40, interval: .milliseconds(50)), forModel: "gpt-5")
            let socket = try ConnectionHardeningTests.RawSocket(port: gateway.http.port)
            let body = #"{"model":"gpt-5","stream":true,"max_tokens":4000,"messages":[{"role":"user","content":"leave early"}]}"#
            socket.send("POST /v1/chat/completions HTTP/1.1\r\nHost: tollgate\r\nAuthorization: Bearer \(gateway.secret)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(await socket.readUntil("word0"), "the first content arrived")
            socket.close()
            let rows = try await LedgerTests.rows(in: gateway, count: 1)
            let row = try #require(rows.first)
            #expect(row.httpStatus == 499 && row.truncated && row.errorCode == "client_closed_request")
            // The words relayed before the gateway saw the close, never the 4000-token reservation.
            #expect(row.outputTokens >= Self.outputTokens("word0", model: "gpt-5"))
            #expect(row.outputTokens <= Self.outputTokens((0..<40).map { "word\($0)" }.joined(separator: " "), model: "gpt-5"))
            let price = ModelPrice(inputPerMillion: 1.25, cachedInputPerMillion: 0.125, outputPerMillion: 10.00)
            #expect(row.costNanodollars == price.cost(of: TokenUsage(inputTokens: row.inputTokens, outputTokens: row.outputTokens)).nanos)
        }
    }

    @Test func whenEveryModelFailsTheTemplateAnswers() async throws {
        try await Self.withChain { gateway in
            gateway.provider.setBehavior(.error(status: 500, type: "server_error", code: nil, message: "boom"), forModel: "gpt-5")
            gateway.provider.setBehavior(.rateLimited(retryAfter: 3600), forModel: "gpt-4.1-mini")
            let reply = try await gateway.chat(Self.ask("gpt-5"))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Fallback") == "template")
            #expect(reply.header("X-Tollgate-Cost-USD") == USD.zero.description)
            let text = try #require(try Self.content(reply))
            let requestID = try #require(reply.header("X-Tollgate-Request-Id"))
            #expect(text.contains("busy") && text.contains(requestID))
            // A Retry-After that does not fit the deadline is not waited for: one gpt-4.1-mini attempt.
            #expect(gateway.provider.received(forModel: "gpt-4.1-mini").count == 1)
            let row = try await Self.row(gateway, for: reply)
            #expect(row.fallback == .template && row.costNanodollars == 0 && row.httpStatus == 200 && row.attempts == 3)

            // Streamed, and to the Anthropic SDK, the template is an ordinary answer too.
            let streamed = try await gateway.chat(Self.ask("gpt-5", stream: true))
            #expect(streamed.status == 200 && streamed.header("X-Tollgate-Fallback") == "template")
            #expect(ssePayloads(streamed.text).last == "[DONE]" && streamed.text.contains("busy"))
            let anthropic = try await gateway.messages(#"{"model":"gpt-5","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(anthropic.status == 200 && anthropic.text.contains(#""stop_reason":"end_turn""#) && anthropic.text.contains("busy"))
        }
    }

    @Test func withoutATemplateTheLastFailureReachesTheClient() async throws {
        try await Self.withChain { gateway in
            gateway.provider.setBehavior(.error(status: 503, type: "server_error", code: nil, message: "down"), forModel: "gpt-5-mini")
            gateway.provider.setBehavior(.error(status: 502, type: "server_error", code: nil, message: "bad gateway"), forModel: "gpt-4.1-nano")
            let reply = try await gateway.chat(Self.ask("gpt-5-mini"))
            #expect(reply.status == 502)
            let error = try #require((try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["error"] as? [String: Any])
            #expect((error["message"] as? String)?.contains("502") == true)
            #expect(gateway.provider.received.count == 4)  // each model once and retried once
            let row = try await Self.row(gateway, for: reply)
            #expect(row.httpStatus == 502 && row.attempts == 4 && row.costNanodollars == 0)
            #expect(row.attemptErrors?.components(separatedBy: "; ").count == 4)
        }
    }

    @Test func aClientErrorIsNeitherRetriedNorFallenBackFrom() async throws {
        try await Self.withChain { gateway in
            gateway.provider.setBehavior(
                .error(status: 400, type: "invalid_request_error", code: "context_length_exceeded", message: "This model's maximum context length is 8 tokens."),
                forModel: "gpt-5"
            )
            let reply = try await gateway.chat(Self.ask("gpt-5"))
            #expect(reply.status == 400)
            #expect(reply.text.contains("context_length_exceeded"))
            #expect(gateway.provider.received.count == 1)
        }
    }

    @Test func anUnreachableDeploymentIsSkippedForItsSibling() async throws {
        try await Self.withChain { gateway in
            let reply = try await gateway.chat(Self.ask("gpt-5-nano"))
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Fallback") == "retry")
            let row = try await Self.row(gateway, for: reply)
            #expect(row.provider == "openai" && row.attemptErrors == "gpt-5-nano@dead: connect_failed")
        }
    }
}
