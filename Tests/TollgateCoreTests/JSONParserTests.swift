import Foundation
import NIOCore
import Testing
@testable import TollgateCore

@Suite struct JSONParserTests {
    func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func valuesOfEveryKind() throws {
        let value = try parse(#" {"s":"héllo 🚀","i":-42,"big":9223372036854775807,"min":-9223372036854775808,"d":2.5e-3,"t":true,"f":false,"n":null,"a":[1,[],{}],"o":{"k":"v"}} "#)
        #expect(value == .object([
            "s": "héllo 🚀", "i": .int(-42), "big": .int(.max), "min": .int(.min), "d": .double(0.0025),
            "t": .bool(true), "f": .bool(false), "n": .null, "a": .array([.int(1), .array([]), .object([:])]),
            "o": .object(["k": "v"]),
        ]))
        #expect(value.objectValue?.keys == ["s", "i", "big", "min", "d", "t", "f", "n", "a", "o"])
    }

    @Test func integersBeyondInt64BecomeDoubles() throws {
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try parse("-9223372036854775809") == .double(-9_223_372_036_854_775_809))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("-0") == .int(0))
    }

    @Test func escapes() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2d\ud83d\ude80""#) == .string("é中🚀"))
        #expect(try parse(#""x\u0000y""#) == .string("x\u{0}y"))
    }

    @Test func duplicateNamesAreRefusedAtAnyDepth() throws {
        for text in [#"{"a":1,"b":2,"a":3}"#, #"{"x":[{"k":1,"k":1}]}"#, #"{"a\u0000":1,"a\u0000":2}"#] {
            let error = try #require(throws: JSONSyntaxError.self) { try parse(text) }
            #expect(error.duplicateKey?.hasPrefix(text.contains("k") ? "k" : "a") == true, "\(text)")
            #expect(error.duplicateKey?.contains("\u{0}") == false, "control characters are not echoed")
        }
        #expect(try parse(#"{"a":{"a":1},"b":{"a":2}}"#)["b"] == .object(["a": .int(2)]), "the same name in other objects is fine")
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, "01", "1.", ".5", "-", "1e", "1e+", "+1",
        "tru", "nul", "True", "[1 2]", #"{"a":1}x"#, "\u{FEFF}{}", #""\ud800""#, #""\udc00x""#, #""\ud800\u0041""#,
        #""\x""#, #""\u12""#, #""\u12G4""#, "\"a\u{1}b\"", "\"unterminated", "1e400", "-1e400", "[", "[[]", "'a'",
    ])
    func malformedTextIsAnError(text: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
    }

    @Test func invalidUTF8IsAnErrorWithItsOffset() {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x28, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x5C, 0x6E, 0xE2, 0x82, 0x22]] {
            #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes) }
        }
        do {
            _ = try JSONParser.parse(Array(#"{"model":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.offset == 10)
            #expect(error.reason.contains("UTF-8"))
        }
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONSyntaxError.self) { try parse(deep) }
        let allowed = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try parse(allowed).arrayValue?.count == 1)
        // Far deeper than any stack could take: refused, not a crash.
        #expect(throws: JSONSyntaxError.self) { try parse(String(repeating: "{\"a\":", count: 200_000)) }
    }

    /// Whatever Foundation's reader makes of a document, the parser makes the same.
    @Test func agreesWithJSONSerializationOnRealBodies() throws {
        let bodies = [
            #"{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],"temperature":0.7,"max_tokens":256,"stream":true,"stream_options":{"include_usage":true},"logit_bias":{"50256":-100},"user":"u-1"}"#,
            #"{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":[1,2.5e10,-3]}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}"#,
        ]
        for body in bodies {
            let ours = try parse(body)
            let theirs = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! NSDictionary
            let reencoded = try JSONSerialization.jsonObject(with: Data(Self.text(ours).utf8)) as! NSDictionary
            #expect(reencoded == theirs)
        }
    }

    /// Random values written out and read back are equal; random bytes never crash it.
    @Test func randomValuesRoundTripAndRandomBytesNeverCrash() throws {
        var generator = SplitMix64(seed: 0x7011_6A7E)
        for _ in 0..<2_000 {
            let value = Self.randomValue(depth: 0, using: &generator)
            #expect(try JSONParser.parse(Array(Self.text(value).utf8)) == value)
        }
        let alphabet = Array(#"{}[]":,.-+eE0123456789truefalsn \\u"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF, 0xED]
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            _ = try? JSONParser.parse(bytes)
        }
    }

    @Test func byteScanFindsOnlyQuotedNames() {
        func contains(_ name: String, _ text: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { ByteScan.containsQuoted(name, in: $0) }
        }
        #expect(contains("max_tokens", #"{"max_tokens":1}"#))
        #expect(contains("max_tokens", #"{"a":"max_tokens_x", "max_tokens" : 2}"#))
        #expect(!contains("max_tokens", #"{"max_tokens_x":1,"x_max_tokens":2}"#))
        #expect(!contains("max_tokens", #"max_tokens""#))
        #expect(!contains("max_tokens", #""max_tokens"#))
        #expect(!contains("max_tokens", ""))
    }

    static func text(_ value: JSONValue) -> String {
        var buffer = ByteBuffer()
        buffer.writeJSON(value)
        return String(buffer: buffer)
    }

    static func randomValue(depth: Int, using generator: inout SplitMix64) -> JSONValue {
        let scalars: [Character] = ["a", "é", "中", "🚀", "\"", "\\", "\n", "\u{0}", "\u{1F}", " ", "/"]
        switch Int.random(in: depth > 3 ? 0...4 : 0...6, using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int(Int64.random(in: .min ... .max, using: &generator))
        case 3: return .double(Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) + 0.25)
        case 4: return .string(String((0..<Int.random(in: 0...12, using: &generator)).map { _ in scalars.randomElement(using: &generator)! }))
        case 5: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var object = JSONObject()
            for index in 0..<Int.random(in: 0...4, using: &generator) {
                object["k\(index)\(scalars.randomElement(using: &generator)!)"] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(object)
        }
    }
}

/// A seeded generator, so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
