import Foundation
import NIOCore
import Testing
import TollgateUpstream
import TollgateTestSupport

@Suite struct ChatCompletionsTests {
    @Test func nonStreamRoundTrip() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}"#)
            #expect(reply.status == 200)
            let choices = reply.json?["choices"] as? [[String: Any]]
            let message = choices?.first?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "Echo: hello there")
            #expect(reply.header("X-Tollgate-Model") == "gpt-4o")
            #expect(reply.header("X-Tollgate-Route") == "default")
            #expect(reply.header("X-Tollgate-Cache") == "miss")
            #expect(reply.header("X-Tollgate-Fallback") == "none")
            #expect(reply.header("X-Tollgate-Request-Id")?.isEmpty == false)
            #expect(reply.header("content-type")?.hasPrefix("application/json") == true)
        }
    }

    @Test func upstreamGetsProviderKeyNeverTheGatewayKey() async throws {
        try await GatewayHarness.run { gateway in
            _ = try await gateway.chat(
                #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("x-api-key", gateway.secret), ("OpenAI-Organization", "org-client")]
            )
            let received = try #require(gateway.provider.received.last)
            #expect(received.headers["authorization"] == "Bearer \(gateway.provider.apiKey)")
            let allHeaderText = received.headers.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
            #expect(!allHeaderText.contains(gateway.secret))
            #expect(received.headers["openai-organization"] == nil)
            #expect(!String(decoding: received.body, as: UTF8.self).contains(gateway.secret))
        }
    }

    @Test func unknownFieldsReachTheProviderUntouched() async throws {
        try await GatewayHarness.run { gateway in
            let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi","x_vendor":[1,{"a":null}]}],"seed":7,"logit_bias":{"50256":-100},"future_param":{"nested":[true,1.25]}}"#
            let reply = try await gateway.chat(body)
            #expect(reply.status == 200)
            // Nothing changed, so the exact bytes went upstream.
            #expect(gateway.provider.received.last?.body == Data(body.utf8))
        }
    }

    @Test func renamedModelIsReencodedKeepingUnknownFields() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(#"{"model":"house-model","messages":[{"role":"user","content":"hi"}],"seed":7,"future_param":{"n":[1]}}"#)
            #expect(reply.status == 200)
            #expect(reply.header("X-Tollgate-Model") == "house-model")
            let sent = try #require(gateway.provider.received.last?.json)
            #expect(sent["model"] as? String == "gpt-4o-mini")
            #expect(sent["seed"] as? Int == 7)
            #expect((sent["future_param"] as? [String: Any])?["n"] as? [Int] == [1])
        }
    }

    @Test func streamRoundTripEndsWithDone() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.chat(#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"one two three"}]}"#)
            #expect(reply.status == 200)
            #expect(reply.header("content-type")?.hasPrefix("text/event-stream") == true)
            let payloads = ssePayloads(reply.text)
            #expect(payloads.last == "[DONE]")
            let text = payloads.dropLast().compactMap { payload -> String? in
                let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
                let delta = ((object?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
                return delta?["content"] as? String
            }.joined()
            #expect(text == "Echo: one two three")
        }
    }

    @Test func streamIsRelayedChunkByChunk() async throws {
        try await GatewayHarness.run { gateway in
            // 40 chunks 100 ms apart: the first must reach the client long before the last is sent.
            gateway.provider.setBehavior(.slowStream(chunks: 40, interval: .milliseconds(100)), forModel: "gpt-4o")
            let response = try await gateway.http.open(
                "POST", "/v1/chat/completions", headers: gateway.auth,
                body: Data(#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}"#.utf8)
            )
            #expect(response.status == 200)
            var received = ""
            for try await chunk in response.body {
                received += String(buffer: chunk)
                if received.contains("word1") { break }
            }
            #expect(received.contains("word1"))
            #expect(gateway.provider.completedStreams == 0)
        }
    }

    @Test func clientDisconnectMidStreamCancelsUpstream() async throws {
        try await GatewayHarness.run { gateway in
            gateway.provider.setBehavior(.slowStream(chunks: 200, interval: .milliseconds(50)), forModel: "gpt-4o")
            do {
                let response = try await gateway.http.open(
                    "POST", "/v1/chat/completions", headers: gateway.auth,
                    body: Data(#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}"#.utf8)
                )
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()
                // Leaving the scope drops the stream: the test client closes its connection.
            }
            // The provider notices its stream was abandoned well before its 10 s natural end.
            var waited = 0
            while gateway.provider.cancelledStreams == 0 && waited < 80 {
                try await Task.sleep(for: .milliseconds(100))
                waited += 1
            }
            #expect(gateway.provider.cancelledStreams == 1)
            #expect(gateway.provider.completedStreams == 0)
        }
    }

    @Test func brokenUpstreamStreamEndsWithAnErrorEvent() async throws {
        try await GatewayHarness.run { gateway in
            gateway.provider.setBehavior(.cutStream(afterChunks: 3), forModel: "gpt-4o")
            let reply = try await gateway.chat(#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(reply.status == 200)
            let payloads = ssePayloads(reply.text)
            let last = try #require(payloads.last)
            #expect(last.contains(#""error""#))
            #expect(last.contains("upstream_error"))
            #expect(!payloads.contains("[DONE]"))
        }
    }
}
