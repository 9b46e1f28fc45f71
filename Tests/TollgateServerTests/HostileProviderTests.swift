import Foundation
import Testing
@testable import TollgateCore
import TollgateTestSupport

/// Hardening (issue 15, item 2): a provider that echoes the credential it was called with, in
/// every place a careless or hostile one could put it. Nothing of it reaches a client or the
/// ledger: not in error fields, whole answers, stream events, escaped or split.
@Suite struct HostileProviderTests {
    /// A different prompt each time: a repeat would be answered from the response cache.
    static var ask: String { #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi \#(UUID())"}]}"# }
    static var askStream: String { #"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi \#(UUID())"}]}"# }

    /// `key` JSON-escaped the way a hostile provider might: every other character as `\u00XX`.
    static func escaped(_ key: String) -> String {
        key.utf8.enumerated().map { $0.offset % 2 == 0 ? String(format: "\\u%04x", $0.element) : String(UnicodeScalar($0.element)) }.joined()
    }

    @Test func errorFieldsNeverCarryTheKey() async throws {
        try await GatewayHarness.run { gateway in
            let key = gateway.provider.apiKey
            let statuses = [400, 404, 409, 413, 415, 422]
            for status in statuses {
                gateway.provider.setBehavior(.error(status: status, type: "type \(key)", code: "code-\(key)", message: "bad key \(key)"), forModel: "gpt-4o")
                let reply = try await gateway.chat(Self.ask)
                #expect(reply.status == status)
                #expect(!reply.text.contains(key), "status \(status): \(reply.text)")
                #expect(reply.text.contains("<redacted>"))
            }
            let rows = try await LedgerTests.rows(in: gateway, count: statuses.count)
            #expect(rows.count == statuses.count)
            for row in rows { #expect(!(row.errorCode ?? "").contains(key), "ledger error_code: \(row.errorCode ?? "")") }
        }
    }

    @Test func wholeAnswersAreScrubbedRawAndEscaped() async throws {
        try await GatewayHarness.run { gateway in
            let key = gateway.provider.apiKey
            gateway.provider.setBehavior(.reply("the key is \(key)."), forModel: "gpt-4o")
            let plain = try await gateway.chat(Self.ask)
            #expect(plain.status == 200 && !plain.text.contains(key) && plain.text.contains("the key is <redacted>."))

            let body = #"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"k=\#(Self.escaped(key))"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}"#
            gateway.provider.setBehavior(.raw(body), forModel: "gpt-4o")
            let escaped = try await gateway.chat(Self.ask)
            #expect(escaped.status == 200)
            let content = ((escaped.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
            #expect(content == "k=<redacted>", "\(escaped.text)")
            // Translated to the Anthropic format the escape is gone, and so is the key.
            let translated = try await gateway.messages(#"{"model":"gpt-4o","max_tokens":64,"messages":[{"role":"user","content":"hi \#(UUID())"}]}"#)
            #expect(translated.status == 200 && !translated.text.contains(key) && translated.text.contains("k=<redacted>"))
        }
    }

    @Test func streamsAreScrubbedSplitAndEscaped() async throws {
        try await GatewayHarness.run { gateway in
            let key = gateway.provider.apiKey
            let cut = key.index(key.startIndex, offsetBy: 7)
            // Split across two content events, with a word between the halves' events.
            gateway.provider.setBehavior(.pieces(["key: ", String(key[..<cut]), String(key[cut...]), " done"]), forModel: "gpt-4o")
            let split = try await gateway.chat(Self.askStream)
            #expect(split.status == 200)
            #expect(!split.text.contains(String(key[cut...])), "\(split.text)")
            #expect(Self.content(ofOpenAIStream: split.text) == "key: <redacted> done")
            // Anthropic ingress, translated from the OpenAI stream: the same.
            let anthropic = try await gateway.messages(#"{"model":"gpt-4o","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi \#(UUID())"}]}"#)
            #expect(!anthropic.text.contains(String(key[cut...])) && anthropic.text.contains("<redacted>"))

            // JSON-escaped in a same-format stream.
            let events = [
                #"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"k="},"finish_reason":null}]}"#,
                #"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"\#(Self.escaped(key))"},"finish_reason":null}]}"#,
                #"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                "data: [DONE]",
            ].joined(separator: "\n\n") + "\n\n"
            gateway.provider.setBehavior(.raw(events), forModel: "gpt-4o")
            let escaped = try await gateway.chat(Self.askStream)
            #expect(escaped.status == 200 && Self.content(ofOpenAIStream: escaped.text) == "k=<redacted>", "\(escaped.text)")
        }
    }

    /// The text a client reassembles from an OpenAI stream.
    static func content(ofOpenAIStream text: String) -> String {
        text.components(separatedBy: "\n\n").compactMap { event -> String? in
            guard event.hasPrefix("data: {"), let data = event.dropFirst(6).data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let delta = (object["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            else { return nil }
            return delta["content"] as? String
        }.joined()
    }
}
