import Foundation
import NIOCore
import Testing
@testable import TollgateCore

/// Fixture files under `Fixtures/Translation` (copied into the test bundle).
enum Fixture {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/Translation")
    /// The source copy, where `TOLLGATE_UPDATE_FIXTURES=1` writes regenerated expectations.
    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/Translation")
    static let updating = ProcessInfo.processInfo.environment["TOLLGATE_UPDATE_FIXTURES"] == "1"

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: self.directory.appendingPathComponent(name))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try self.data(name), as: UTF8.self)
    }

    static func buffer(_ name: String) throws -> ByteBuffer {
        ByteBuffer(bytes: try self.data(name))
    }

    /// Compares `actual` JSON with the expected fixture as JSON values (key order and
    /// whitespace aside), or rewrites the fixture when updating.
    static func expectJSON(_ actual: Data, matches name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let pretty = try Self.pretty(actual)
        if Self.updating {
            try pretty.write(to: self.sourceDirectory.appendingPathComponent(name))
            return
        }
        let expected = Self.normalize(try JSONSerialization.jsonObject(with: try self.data(name))) as! NSObject
        let got = Self.normalize(try JSONSerialization.jsonObject(with: actual)) as! NSObject
        #expect(got == expected, "\(name) differs; got:\n\(String(decoding: pretty, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    /// Compares a stream transcript with the expected fixture byte for byte.
    static func expectText(_ actual: String, matches name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if Self.updating {
            try Data(actual.utf8).write(to: self.sourceDirectory.appendingPathComponent(name))
            return
        }
        let expected = try self.text(name)
        #expect(actual == expected, "\(name) differs; got:\n\(actual)", sourceLocation: sourceLocation)
    }

    /// Tool call `arguments` are JSON inside a string, with keys in whatever order the JSON
    /// decoder listed them: compare them as JSON.
    static func normalize(_ value: Any) -> Any {
        if let array = value as? [Any] { return array.map(Self.normalize) }
        guard let object = value as? [String: Any] else { return value }
        var result: [String: Any] = [:]
        for (key, element) in object {
            if key == "arguments", let text = element as? String,
                let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
            {
                result[key] = parsed
            } else {
                result[key] = Self.normalize(element)
            }
        }
        return result
    }

    static func pretty(_ data: Data) throws -> Data {
        let object = try JSONSerialization.jsonObject(with: data)
        var pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        pretty.append(UInt8(ascii: "\n"))
        return pretty
    }
}

/// Runs a transcoder over `input` cut at `splits` (byte offsets).
func transcode<T: ResponseStreamTranscoder>(_ transcoder: T, _ input: [UInt8], splits: [Int] = []) throws(GatewayError) -> (output: String, usage: TokenUsage?) {
    var transcoder = transcoder
    var output = ByteBuffer()
    var start = 0
    for end in splits + [input.count] where end >= start {
        var chunk = ByteBuffer(bytes: input[start..<end])
        try transcoder.consume(&chunk, into: &output)
        start = end
    }
    try transcoder.finish(into: &output)
    return (String(buffer: output), transcoder.usage)
}

func encodeJSON<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return try encoder.encode(value)
}

/// All events of a transcript, parsed with the gateway's own SSE parser.
func events(_ transcript: String) throws -> [SSEEvent] {
    var parser = SSEEventParser()
    var input = ByteBuffer(string: transcript)
    parser.append(&input)
    parser.finishInput()
    var result: [SSEEvent] = []
    while let event = try parser.next() { result.append(event) }
    return result
}

/// What an OpenAI SDK would assemble from a chunk stream.
struct OpenAIStreamSummary: Equatable {
    var content = ""
    var toolCalls: [Int: (id: String, name: String, arguments: String)] = [:]
    var finishReason: String?
    var usage: [String: Int] = [:]
    var sawDone = false
    var error: String?

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.content == rhs.content && lhs.finishReason == rhs.finishReason && lhs.usage == rhs.usage && lhs.sawDone == rhs.sawDone
            && lhs.error == rhs.error && lhs.toolCalls.keys.sorted() == rhs.toolCalls.keys.sorted()
            && lhs.toolCalls.allSatisfy { key, call in
                let other = rhs.toolCalls[key]!
                return call.id == other.id && call.name == other.name && jsonEqual(call.arguments, other.arguments)
            }
    }

    init(_ transcript: String) throws {
        for event in try events(transcript) where event.hasData {
            if event.isDoneSentinel {
                self.sawDone = true
                continue
            }
            let chunk = try JSONSerialization.jsonObject(with: Data(event.dataString.utf8)) as! [String: Any]
            if let error = chunk["error"] as? [String: Any] {
                self.error = error["message"] as? String
                continue
            }
            if let usage = chunk["usage"] as? [String: Any] {
                for key in ["prompt_tokens", "completion_tokens", "total_tokens"] { self.usage[key] = usage[key] as? Int }
                self.usage["cached_tokens"] = (usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
            }
            for choice in chunk["choices"] as? [[String: Any]] ?? [] {
                let delta = choice["delta"] as? [String: Any] ?? [:]
                self.content += delta["content"] as? String ?? ""
                for call in delta["tool_calls"] as? [[String: Any]] ?? [] {
                    let index = call["index"] as! Int
                    var entry = self.toolCalls[index] ?? ("", "", "")
                    if let id = call["id"] as? String { entry.id = id }
                    let function = call["function"] as? [String: Any] ?? [:]
                    if let name = function["name"] as? String { entry.name = name }
                    entry.arguments += function["arguments"] as? String ?? ""
                    self.toolCalls[index] = entry
                }
                if let finish = choice["finish_reason"] as? String { self.finishReason = finish }
            }
        }
    }
}

/// What an Anthropic SDK would assemble from an event stream, checking the event order.
struct AnthropicStreamSummary: Equatable {
    struct Block: Equatable {
        var type: String
        var text = ""
        var id: String?
        var name: String?
        var json = ""

        static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.type == rhs.type && lhs.text == rhs.text && lhs.id == rhs.id && lhs.name == rhs.name
                && (lhs.json == rhs.json || jsonEqual(lhs.json, rhs.json))
        }
    }

    var blocks: [Block] = []
    var stopReason: String?
    var usage: [String: Int] = [:]
    var stopped = false
    var error: String?

    init(_ transcript: String) throws {
        var started = false
        var open: Set<Int> = []
        for event in try events(transcript) where event.hasData {
            let object = try JSONSerialization.jsonObject(with: Data(event.dataString.utf8)) as! [String: Any]
            let type = object["type"] as! String
            #expect(event.name == type, "the event name matches the data type")
            #expect(!self.stopped, "nothing after message_stop")
            switch type {
            case "message_start":
                #expect(!started)
                started = true
                let usage = (object["message"] as! [String: Any])["usage"] as! [String: Any]
                for (key, value) in usage { if let number = value as? Int { self.usage[key] = number } }
            case "content_block_start":
                let index = object["index"] as! Int
                #expect(index == self.blocks.count, "blocks start in order")
                let block = object["content_block"] as! [String: Any]
                self.blocks.append(Block(type: block["type"] as! String, text: block["text"] as? String ?? "", id: block["id"] as? String, name: block["name"] as? String))
                open.insert(index)
            case "content_block_delta":
                let index = object["index"] as! Int
                #expect(open.contains(index), "deltas only for open blocks")
                let delta = object["delta"] as! [String: Any]
                self.blocks[index].text += delta["text"] as? String ?? ""
                self.blocks[index].json += delta["partial_json"] as? String ?? ""
            case "content_block_stop":
                #expect(open.remove(object["index"] as! Int) != nil)
            case "message_delta":
                #expect(open.isEmpty, "blocks are closed before message_delta")
                self.stopReason = (object["delta"] as! [String: Any])["stop_reason"] as? String
                for (key, value) in object["usage"] as? [String: Any] ?? [:] { if let number = value as? Int { self.usage[key] = number } }
            case "message_stop": self.stopped = true
            case "error": self.error = (object["error"] as? [String: Any])?["type"] as? String
            default: break
            }
        }
        #expect(started || self.error != nil, "message_start comes first")
    }
}

/// True when two JSON texts hold the same value.
func jsonEqual(_ lhs: String, _ rhs: String) -> Bool {
    guard let left = try? JSONSerialization.jsonObject(with: Data(lhs.utf8), options: .fragmentsAllowed) as? NSObject,
        let right = try? JSONSerialization.jsonObject(with: Data(rhs.utf8), options: .fragmentsAllowed) as? NSObject
    else { return lhs == rhs }
    return left == right
}
