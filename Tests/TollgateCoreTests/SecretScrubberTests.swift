import NIOCore
import Testing
@testable import TollgateCore

@Suite struct SecretScrubberTests {
    let scrubber = SecretScrubber(secret: "sk-test-0123456789")!

    @Test func replacesEveryOccurrenceAndNothingElse() {
        let text = "sk-test-0123456789 was used; again sk-test-0123456789, not sk-test-012345678x"
        let expected = "<redacted> was used; again <redacted>, not sk-test-012345678x"
        #expect(self.scrubber.scrub(text) == expected)
        #expect(self.scrubber.scrub(ByteBuffer(string: text)).map { String(buffer: $0) } == expected)
        #expect(self.scrubber.scrub(ByteBuffer(string: "sk-test-0123456789")).map { String(buffer: $0) } == "<redacted>")
    }

    @Test func leavesCleanTextAlone() {
        #expect(self.scrubber.scrub(ByteBuffer(string: "data: {\"choices\":[]}\n\n")) == nil)
        #expect(self.scrubber.scrub(ByteBuffer()) == nil)
        #expect(self.scrubber.scrub(ByteBuffer(string: "sk-test-012345678")) == nil)  // a prefix is not the key
        #expect(SecretScrubber(secret: "short") == nil)
    }
}

/// Credentials as a client would read them: escaped, and split across stream events.
@Suite struct SecretStreamScrubberTests {
    static let secret = "sk-test-0123456789"
    let scrubber = SecretScrubber(secret: Self.secret)!

    func chunk(_ content: String, id: String = "c1") -> String {
        #"data: {"id":"\#(id)","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"\#(content)"}}]}"# + "\n\n"
    }

    /// Feeds `events` one by one; returns everything released, in order.
    func relay(_ events: [String]) -> String {
        var stream = self.scrubber.streamScrubber()
        var out = ""
        for event in events { out += String(buffer: stream.feed(ByteBuffer(string: event))) }
        return out + String(buffer: stream.finish())
    }

    @Test func escapedFormsInADocumentAreFound() throws {
        for escaped in [#"\u0073k-test-0123456789"#, #"sk-test-\u0030123456789"#, #"\u0073\u006b\u002d\u0074\u0065\u0073\u0074\u002d0123456789"#, #"sk-test-01234567\u00389"#] {
            let body = #"{"choices":[{"message":{"content":"key: \#(escaped)!"}}]}"#
            let scrubbed = try #require(self.scrubber.scrubDocument(ByteBuffer(string: body)), "\(escaped)")
            #expect(String(buffer: scrubbed) == #"{"choices":[{"message":{"content":"key: <redacted>!"}}]}"#)
        }
        #expect(self.scrubber.scrubDocument(ByteBuffer(string: #"{"content":"sk-test-012345678 \u0041"}"#)) == nil)
    }

    @Test func aKeySplitAcrossEventsIsCutFromEach() throws {
        let out = self.relay([chunk("my key is sk-te"), chunk("st-0123"), chunk("456789, ok")])
        #expect(!out.contains("0123") && !out.contains("456789"))
        #expect(out == chunk("my key is <redacted>") + chunk("") + chunk(", ok"))
        // Other fields between the parts (ids, model) do not hide it; another path does not join it.
        let across = self.relay([chunk("sk-test-01", id: "a"), chunk("23456789", id: "b")])
        #expect(across == chunk("<redacted>", id: "a") + chunk("", id: "b"))
        let tool = #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"sk-test-"}}]}}]}"# + "\n\n"
        #expect(self.relay([tool, chunk("0123456789")]) == tool + chunk("0123456789"))
    }

    @Test func anthropicDeltasAndEscapesAcrossEventsAreCut() {
        func delta(_ text: String) -> String {
            "event: content_block_delta\ndata: " + #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(text)"}}"# + "\n\n"
        }
        #expect(self.relay([delta(#"\u0073k-test"#), delta(#"-0123456789"#)]) == delta("<redacted>") + delta(""))
    }

    @Test func aPrefixIsHeldOnlyUntilTheNextEventDecides() {
        var stream = self.scrubber.streamScrubber()
        #expect(String(buffer: stream.feed(ByteBuffer(string: chunk("plain")))) == chunk("plain"))
        #expect(stream.feed(ByteBuffer(string: chunk("ends with sk-t"))).readableBytes == 0, "held: it may be the key")
        #expect(String(buffer: stream.feed(ByteBuffer(string: chunk("ick")))) == chunk("ends with sk-t") + chunk("ick"))
        #expect(stream.feed(ByteBuffer(string: chunk("sk-test-0"))).readableBytes == 0)
        #expect(String(buffer: stream.finish()) == chunk("sk-test-0"), "an unfinished prefix is not the key")
    }

    @Test func malformedJSONDoesNotStopTheScan() {
        // A cut event (unterminated string) is followed by good ones: the scan resynchronises.
        let cut = #"data: {"choices":[{"delta":{"content":"abc"# + "\n\n"
        #expect(self.relay([cut, chunk(#"\u0073k-test-0123456789"#)]) == cut + chunk("<redacted>"))
    }
}
