/// Why some bytes are not JSON: what was wrong and where (a byte offset).
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var offset: Int
    /// The member name an object had twice, when that is the error.
    public var duplicateKey: String?

    public init(reason: String, offset: Int, duplicateKey: String? = nil) {
        self.reason = reason
        self.offset = offset
        self.duplicateKey = duplicateKey
    }

    public var description: String { "\(self.reason) at byte \(self.offset)" }
}

/// Parses JSON text (RFC 8259, UTF-8) into a `JSONValue` in one pass over the bytes.
///
/// Every request body goes through this, so it reads the bytes directly instead of going
/// through `JSONDecoder` and `Decodable`'s containers, which cost several times more on a
/// small chat request (bench/RESULTS.md, "Request parsing"). It is strict: invalid UTF-8,
/// raw control characters and lone surrogates in strings, trailing commas, leading zeros,
/// numbers beyond `Double`'s range, trailing data, nesting deeper than `maxDepth` and a
/// member name seen twice in one object are errors, never traps. Duplicates are refused
/// because parsers disagree on them: a provider that kept the first `model` of
/// `{"model":"o1","model":"gpt-4o-mini"}` would serve what the gateway did not authorise.
public struct JSONParser {
    /// Deeper nesting is refused, so a hostile body cannot exhaust the stack.
    public static let defaultMaxDepth = 512

    private let bytes: UnsafeRawBufferPointer
    private let maxDepth: Int
    private var index = 0
    private var depth = 0

    private init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// The value `bytes` hold, which must be one JSON value with optional whitespace around it.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        let result = bytes.withUnsafeBytes { bytes in
            Result { () throws(JSONSyntaxError) -> JSONValue in try Self.parse(bytes, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard self.index < self.bytes.count else { throw self.error("unexpected end of input") }
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"): return .object(try self.parseObject())
        case UInt8(ascii: "["): return .array(try self.parseArray())
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try self.parseNumber()
        default:
            throw self.error("unexpected character")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONObject {
        try self.enterContainer()
        var object = JSONObject()
        self.skipWhitespace()
        if self.peek == UInt8(ascii: "}") {
            self.index += 1
            self.depth -= 1
            return object
        }
        while true {
            self.skipWhitespace()
            guard self.peek == UInt8(ascii: "\"") else { throw self.error("expected a member name in quotes") }
            let key = try self.parseString()
            self.skipWhitespace()
            guard self.peek == UInt8(ascii: ":") else { throw self.error("expected ':' after a member name") }
            self.index += 1
            self.skipWhitespace()
            guard object[key] == nil else {
                let printable = String(String.UnicodeScalarView(key.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(64)))
                throw JSONSyntaxError(reason: "duplicate member name '\(printable)'", offset: self.index, duplicateKey: printable)
            }
            object[key] = try self.parseValue()
            self.skipWhitespace()
            switch self.peek {
            case UInt8(ascii: ","):
                self.index += 1
            case UInt8(ascii: "}"):
                self.index += 1
                self.depth -= 1
                return object
            default:
                throw self.error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> [JSONValue] {
        try self.enterContainer()
        var array: [JSONValue] = []
        self.skipWhitespace()
        if self.peek == UInt8(ascii: "]") {
            self.index += 1
            self.depth -= 1
            return array
        }
        while true {
            self.skipWhitespace()
            array.append(try self.parseValue())
            self.skipWhitespace()
            switch self.peek {
            case UInt8(ascii: ","):
                self.index += 1
            case UInt8(ascii: "]"):
                self.index += 1
                self.depth -= 1
                return array
            default:
                throw self.error("expected ',' or ']' in an array")
            }
        }
    }

    /// Steps over the `{` or `[` at `index`.
    private mutating func enterContainer() throws(JSONSyntaxError) {
        guard self.depth < self.maxDepth else { throw self.error("nested deeper than \(self.maxDepth) levels") }
        self.depth += 1
        self.index += 1
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard self.bytes.count - self.index >= count else { throw self.error("unexpected end of input") }
        for offset in 0..<count where self.bytes[self.index + offset] != literal.utf8Start[offset] {
            throw self.error("unexpected character")
        }
        self.index += count
    }

    // MARK: - Strings

    /// The string starting at the `"` at `index`. Strings without escapes (almost all) are
    /// made straight from the bytes; ASCII ones skip UTF-8 validation.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        self.index += 1
        let start = self.index
        var ascii = true
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: "\"") {
                let text = try self.makeString(start..<self.index, ascii: ascii)
                self.index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return try self.parseEscapedString(from: start) }
            if byte < 0x20 { throw self.error("unescaped control character in a string") }
            if byte >= 0x80 { ascii = false }
            self.index += 1
        }
        throw self.error("unterminated string")
    }

    private func makeString(_ range: Range<Int>, ascii: Bool) throws(JSONSyntaxError) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: self.bytes[range])
        if ascii { return String(decoding: slice, as: UTF8.self) }
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw JSONSyntaxError(reason: "invalid UTF-8 in a string", offset: range.lowerBound)
        }
        return text
    }

    /// The slow path: a string with escapes, decoded into a scratch buffer.
    private mutating func parseEscapedString(from start: Int) throws(JSONSyntaxError) -> String {
        var scratch: [UInt8] = []
        scratch.reserveCapacity(self.index - start + 16)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]))
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                self.index += 1
                guard let text = String(validating: scratch, as: UTF8.self) else {
                    throw JSONSyntaxError(reason: "invalid UTF-8 in a string", offset: start)
                }
                return text
            case UInt8(ascii: "\\"):
                try self.appendEscape(to: &scratch)
            case ..<0x20:
                throw self.error("unescaped control character in a string")
            default:
                scratch.append(byte)
                self.index += 1
            }
        }
        throw self.error("unterminated string")
    }

    /// Decodes the escape at `index` (a backslash) into UTF-8.
    private mutating func appendEscape(to scratch: inout [UInt8]) throws(JSONSyntaxError) {
        guard self.index + 1 < self.bytes.count else { throw self.error("unterminated string") }
        let escaped = self.bytes[self.index + 1]
        self.index += 2
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escaped)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try self.readHex4())
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low one.
                guard self.index + 1 < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\\"),
                    self.bytes[self.index + 1] == UInt8(ascii: "u")
                else { throw self.error("unpaired surrogate in a \\u escape") }
                self.index += 2
                let low = UInt32(try self.readHex4())
                guard (0xDC00...0xDFFF).contains(low) else { throw self.error("unpaired surrogate in a \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw self.error("unpaired surrogate in a \\u escape")
            }
            // Not a surrogate, so always a valid scalar.
            scratch.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw JSONSyntaxError(reason: "invalid escape in a string", offset: self.index - 2)
        }
    }

    private mutating func readHex4() throws(JSONSyntaxError) -> UInt16 {
        guard self.bytes.count - self.index >= 4 else { throw self.error("unterminated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.error("invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt16(digit)
            self.index += 1
        }
        return value
    }

    // MARK: - Numbers

    /// An integer that fits in `Int64` stays exact; anything else becomes a `Double`.
    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = self.index
        var negative = false
        if self.peek == UInt8(ascii: "-") {
            negative = true
            self.index += 1
        }
        guard let first = self.peekDigit else { throw self.error("expected a digit") }
        var magnitude: UInt64 = 0
        var overflow = false
        if first == 0 {
            self.index += 1
            if self.peekDigit != nil { throw self.error("leading zero in a number") }
        } else {
            while let digit = self.peekDigit {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                overflow = overflow || o1 || o2
                magnitude = sum
                self.index += 1
            }
        }
        var integral = true
        if self.peek == UInt8(ascii: ".") {
            integral = false
            self.index += 1
            guard self.peekDigit != nil else { throw self.error("expected a digit after '.'") }
            while self.peekDigit != nil { self.index += 1 }
        }
        if self.peek == UInt8(ascii: "e") || self.peek == UInt8(ascii: "E") {
            integral = false
            self.index += 1
            if self.peek == UInt8(ascii: "+") || self.peek == UInt8(ascii: "-") { self.index += 1 }
            guard self.peekDigit != nil else { throw self.error("expected a digit in an exponent") }
            while self.peekDigit != nil { self.index += 1 }
        }
        if integral, !overflow {
            if negative, magnitude <= UInt64(Int64.max) + 1 { return .int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)) }
            if !negative, magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw JSONSyntaxError(reason: "number out of range", offset: start)
        }
        return .double(double)
    }

    // MARK: - Cursor

    private var peek: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    private var peekDigit: UInt8? {
        guard self.index < self.bytes.count else { return nil }
        let byte = self.bytes[self.index]
        return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? byte - UInt8(ascii: "0") : nil
    }

    private mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): self.index += 1
            default: return
            }
        }
    }

    private func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(reason: reason, offset: self.index)
    }
}
