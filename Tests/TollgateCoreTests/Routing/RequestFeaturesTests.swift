import Foundation
import Testing
@testable import TollgateCore

@Suite struct RequestFeaturesTests {
    func request(_ json: String) throws -> ChatCompletionRequest {
        try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
    }

    let utc = TimeZone(identifier: "UTC")!
    // 2026-01-03 is a Saturday.
    let saturdayMorning = ISO8601DateFormatter().date(from: "2026-01-03T09:30:00Z")!

    @Test func computesFeaturesFromARequest() throws {
        let body = try request("""
            {"model": "auto", "max_completion_tokens": 300, "max_tokens": 900,
             "tools": [{"type": "function", "function": {"name": "f"}}],
             "response_format": {"type": "json_object"},
             "messages": [
               {"role": "system", "content": "Be brief."},
               {"role": "developer", "content": "JSON only."},
               {"role": "user", "content": "First question"},
               {"role": "assistant", "content": "```py\\nprint(1)\\n```"},
               {"role": "user", "content": [{"type": "text", "text": "Why does this fail?"},
                                            {"type": "image_url", "image_url": {"url": "data:x"}},
                                            {"type": "text", "text": "```js\\nx()\\n``` and ```"}]}
             ]}
            """)
        let key = GatewayKey(id: "k1", name: "web", team: "growth", user: "key-owner")
        let tags = try RoutingTags.parse(headerValues: ["env=prod, beta"])
        let f = RequestFeatures(request: body, key: key, endUser: "alice", tags: tags, now: saturdayMorning, timeZone: utc, budgetUsedPercent: 12)
        #expect(f.model == "auto")
        #expect(f.messageCount == 5)
        #expect(f.maxTokens == 300)
        #expect(f.hasTools && f.hasImages && f.hasResponseFormat)
        #expect(f.codeBlocks == 3)  // two closed fences and one unclosed
        #expect(f.hasCode)
        #expect(f.lastUserMessage == "Why does this fail?\n```js\nx()\n``` and ```")
        #expect(f.systemPrompt == "Be brief.\nJSON only.")
        #expect(f.keyName == "web" && f.keyID == "k1" && f.team == "growth" && f.user == "alice")
        #expect(f.tags["env"] == "prod" && f.tags["beta"] == "true")
        #expect(f.budgetUsedPercent == 12)
        #expect(f.hour == 9 && f.weekday == 6)
        #expect(f.promptTokens == PromptTokenEstimator.estimate(body))
    }

    @Test func minimalRequest() throws {
        let body = try request(#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "What is the capital of France?"}]}"#)
        let f = RequestFeatures(request: body, key: GatewayKey(id: "k", name: "n", user: "owner"), endUser: nil, now: saturdayMorning, timeZone: utc)
        #expect(f.maxTokens == nil && !f.hasTools && !f.hasImages && !f.hasResponseFormat && f.codeBlocks == 0)
        #expect(f.systemPrompt.isEmpty && f.tags.isEmpty && f.budgetUsedPercent == nil && f.team == nil)
        #expect(f.user == "owner")  // the key's user when no end user is given
        // 30 bytes -> 8 tokens, + 4 per message + 3 priming.
        #expect(f.promptTokens == 15)
    }

    @Test(arguments: [
        ("2026-01-03T09:30:00Z", "UTC", 9, 6),
        ("2026-01-03T23:30:00Z", "Asia/Tokyo", 8, 7),          // Sunday morning in Tokyo
        ("2026-01-05T03:00:00Z", "America/New_York", 22, 7),   // still Sunday evening in New York
        ("1969-12-31T23:00:00Z", "UTC", 23, 3),                 // before the epoch: a Wednesday
    ])
    func localTime(_ instant: String, _ zone: String, _ hour: Int, _ weekday: Int) throws {
        let body = try request(#"{"model": "m", "messages": [{"role": "user", "content": "x"}]}"#)
        let f = RequestFeatures(request: body, key: nil, endUser: nil, now: ISO8601DateFormatter().date(from: instant)!, timeZone: TimeZone(identifier: zone)!)
        #expect(f.hour == hour)
        #expect(f.weekday == weekday)
    }

    @Test func tagHeaderSyntax() throws {
        let tags = try RoutingTags.parse(headerValues: [" env = prod ,Feature=search,, beta", "env=staging"])
        #expect(tags.pairs.map(\.name) == ["env", "feature", "beta"])
        #expect(tags["env"] == "staging" && tags["feature"] == "search" && tags["beta"] == "true")
        #expect(throws: RoutingTagError.self) { try RoutingTags.parse(headerValues: ["bad name=1"]) }
        #expect(throws: RoutingTagError.self) { try RoutingTags.parse(headerValues: ["=1"]) }
        #expect(throws: RoutingTagError.self) { try RoutingTags.parse(headerValues: [(0...40).map { "t\($0)" }.joined(separator: ",")]) }
        #expect(throws: RoutingTagError.self) { try RoutingTags.parse(headerValues: ["k=" + String(repeating: "v", count: 300)]) }
    }

    @Test func keywordMatchingAtWordStarts() {
        let matcher = KeywordMatcher(lists: [["debug", "step by step"], ["prove"], ["ünï"]])
        func scan(_ text: String) -> [UInt8] {
            var found = [UInt8](repeating: 0, count: 3)
            found.withUnsafeMutableBufferPointer { matcher.scan(text, into: $0) }
            return found
        }
        #expect(scan("Please DEBUGGING now") == [1, 0, 0])
        #expect(scan("undebug; improve") == [0, 0, 0])
        #expect(scan("Go Step By Step and (prove)") == [1, 1, 0])
        #expect(scan("x ünïcode") == [0, 0, 1])
        #expect(scan("") == [0, 0, 0])
        #expect(scan("step by") == [0, 0, 0])
    }
}
