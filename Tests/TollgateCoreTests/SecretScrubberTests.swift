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
