import Foundation
import NIOCore
import Testing
import TollgateUpstream
import TollgateTestSupport

/// Drives a corpus of malformed bodies and random bytes through a live gateway: every one
/// must get a 4xx with an OpenAI error body, and the gateway must keep serving.
@Suite struct BadInputTests {
    static let corpus: [String] = [
        "", " ", "{", "}", "[]", "null", "true", "42", "\"string\"", "{\"model\":}", "{\"model\":\"gpt-4o\",}",
        #"{"model":"gpt-4o"}"#, #"{"messages":[]}"#, #"{"model":"gpt-4o","messages":[]}"#,
        #"{"model":null,"messages":[{"role":"user","content":"x"}]}"#,
        #"{"model":["gpt-4o"],"messages":[{"role":"user","content":"x"}]}"#,
        #"{"model":"gpt-4o","messages":{"role":"user"}}"#,
        #"{"model":"gpt-4o","messages":[1,2,3]}"#,
        #"{"model":"gpt-4o","messages":[{"role":7,"content":"x"}]}"#,
        #"{"model":"gpt-4o","messages":[{"role":"user","content":{"text":"x"}}]}"#,
        #"{"model":"gpt-4o","messages":[{"role":"user","content":[{"text":"no type"}]}]}"#,
        #"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"max_tokens":-5}"#,
        #"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"max_tokens":1e400}"#,
        #"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#,
        #"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream":1}"#,
        #"{"model":"gpt-4o","messages":[{"role":"user","content":"\ud800"}]}"#,
        String(repeating: "[", count: 100_000),
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}garbage",
    ]

    @Test func malformedBodiesGetOpenAIErrors() async throws {
        try await GatewayHarness.run { gateway in
            for body in Self.corpus {
                let reply = try await gateway.http.send("POST", "/v1/chat/completions", headers: gateway.auth, body: Data(body.utf8))
                #expect((400..<500).contains(reply.status), "\(body.prefix(60)) -> \(reply.status)")
                #expect(reply.json?["error"] is [String: Any], "\(body.prefix(60)) -> \(reply.text.prefix(200))")
            }
            let invalidUTF8 = Data(#"{"model":"gpt-4o","messages":[{"role":"user","content":""#.utf8) + Data([0xC3, 0x28, 0xFF, 0xFE]) + Data(#""}]}"#.utf8)
            let reply = try await gateway.http.send("POST", "/v1/chat/completions", headers: gateway.auth, body: invalidUTF8)
            #expect(reply.status == 400)
            #expect(try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"still alive"}]}"#).status == 200)
        }
    }

    @Test func randomBytesNeverCrashTheGateway() async throws {
        try await GatewayHarness.run { gateway in
            var generator = SystemRandomNumberGenerator()
            for round in 0..<200 {
                let length = Int.random(in: 0...2048, using: &generator)
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if round % 3 == 0 { bytes = Array(#"{"model":"gpt-4o","messages":"#.utf8) + bytes }
                let path = round % 2 == 0 ? "/v1/chat/completions" : "/v1/embeddings"
                let reply = try await gateway.http.send("POST", path, headers: gateway.auth, body: Data(bytes))
                #expect((400..<500).contains(reply.status), "round \(round): \(reply.status)")
                #expect(reply.json?["error"] != nil)
            }
            #expect(try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"still alive"}]}"#).status == 200)
        }
    }
}
