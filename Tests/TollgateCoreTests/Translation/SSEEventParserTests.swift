import Foundation
import NIOCore
import Testing
@testable import TollgateCore

@Suite struct SSEEventParserTests {
    /// Parses `input` fed in chunks cut at `splits`.
    func parse(_ input: [UInt8], splits: [Int] = []) throws -> [SSEEvent] {
        var parser = SSEEventParser()
        var result: [SSEEvent] = []
        var start = 0
        for end in splits + [input.count] {
            var chunk = ByteBuffer(bytes: input[start..<end])
            parser.append(&chunk)
            #expect(chunk.readableBytes == 0)
            while let event = try parser.next() { result.append(event) }
            start = end
        }
        parser.finishInput()
        while let event = try parser.next() { result.append(event) }
        return result
    }

    @Test func namesDataAndRawBytes() throws {
        let input = "event: message_start\ndata: {\"a\":1}\n\n: a comment\ndata: first\ndata:second\nid: 7\n\ndata: [DONE]\n\n"
        let events = try parse(Array(input.utf8))
        #expect(events.count == 3)
        #expect(events[0].name == "message_start")
        #expect(events[0].dataString == "{\"a\":1}")
        #expect(events[1].name == nil)
        #expect(events[1].dataString == "first\nsecond")
        #expect(events[2].isDoneSentinel)
        // The raw bytes of all events are the input, exactly.
        #expect(events.map { String(buffer: $0.raw) }.joined() == input)
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func lineEndings(_ ending: String) throws {
        let input = ["event: ping", "data: {\"type\": \"ping\"}", "", "data: x", "", ""].joined(separator: ending)
        let bytes = Array(input.utf8)
        let whole = try parse(bytes)
        #expect(whole.map(\.name) == ["ping", nil])
        #expect(whole.map(\.dataString) == ["{\"type\": \"ping\"}", "x"])
        #expect(whole.map { String(buffer: $0.raw) }.joined() == input)
        for split in 1..<bytes.count {
            #expect(try parse(bytes, splits: [split]) == whole, "split at \(split)")
        }
    }

    @Test func splitsInsideMultiByteCharacters() throws {
        let input = "data: {\"text\":\"日本語 ✓ Ça\"}\n\n"
        let bytes = Array(input.utf8)
        let byByte = try parse(bytes, splits: Array(1..<bytes.count))
        #expect(byByte.count == 1)
        #expect(byByte[0].dataString == "{\"text\":\"日本語 ✓ Ça\"}")
    }

    @Test func commentOnlyBlocksAndBlankLinesAreKeptForPassThrough() throws {
        let input = "\n\n: keep-alive\n\ndata: a\n\n\n"
        let events = try parse(Array(input.utf8))
        #expect(events.map(\.hasData) == [false, true, false])
        #expect(events.map { String(buffer: $0.raw) }.joined() == input)
    }

    @Test func lastEventWithoutBlankLineIsDeliveredAtTheEnd() throws {
        let events = try parse(Array("data: a\n\ndata: tail".utf8))
        #expect(events.map(\.dataString) == ["a", "tail"])
        #expect(String(buffer: events[1].raw) == "data: tail")
    }

    @Test func trailingCarriageReturnWaitsForTheNextByte() throws {
        var parser = SSEEventParser()
        var chunk = ByteBuffer(string: "data: a\r\n\r")
        parser.append(&chunk)
        #expect(try parser.next() == nil, "the final CR may be the start of CRLF")
        chunk = ByteBuffer(string: "\n")
        parser.append(&chunk)
        let event = try #require(try parser.next())
        #expect(String(buffer: event.raw) == "data: a\r\n\r\n")
    }

    @Test func oversizedEventIsRefused() throws {
        var parser = SSEEventParser(maxEventBytes: 64)
        var chunk = ByteBuffer(string: "data: " + String(repeating: "x", count: 100))
        parser.append(&chunk)
        #expect(throws: GatewayError.self) { try parser.next() }
    }
}
