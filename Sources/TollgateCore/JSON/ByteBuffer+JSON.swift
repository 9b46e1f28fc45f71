import Foundation
import NIOCore

// MARK: - Writing

extension ByteBuffer {
    /// Writes `value` as compact JSON. Object keys keep their order, so the same value always
    /// gives the same bytes (stream transcripts and fixtures compare byte for byte).
    public mutating func writeJSON(_ value: JSONValue) {
        switch value {
        case .null: self.writeStaticString("null")
        case .bool(let flag): self.writeStaticString(flag ? "true" : "false")
        case .int(let number): self.writeString(String(number))
        case .double(let number):
            if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
                // Integral doubles print as `2.0` in Swift; JSON readers are happier with `2`.
                self.writeString(String(Int64(number)))
            } else if number.isFinite {
                self.writeString(String(number))
            } else {
                self.writeStaticString("null")
            }
        case .string(let text): self.writeJSONQuoted(text)
        case .array(let values):
            self.writeInteger(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { self.writeInteger(UInt8(ascii: ",")) }
                self.writeJSON(element)
            }
            self.writeInteger(UInt8(ascii: "]"))
        case .object(let object):
            self.writeJSON(object)
        }
    }

    /// Writes `object` as compact JSON, keys in insertion order.
    public mutating func writeJSON(_ object: JSONObject) {
        self.writeInteger(UInt8(ascii: "{"))
        var first = true
        for (key, element) in object {
            if !first { self.writeInteger(UInt8(ascii: ",")) }
            first = false
            self.writeJSONQuoted(key)
            self.writeInteger(UInt8(ascii: ":"))
            self.writeJSON(element)
        }
        self.writeInteger(UInt8(ascii: "}"))
    }

    /// Writes `string` as a JSON string literal, escaping what JSON requires (and nothing
    /// else: non-ASCII text stays UTF-8).
    public mutating func writeJSONQuoted(_ string: String) {
        self.writeInteger(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): self.writeStaticString("\\\\")
            case UInt8(ascii: "\n"): self.writeStaticString("\\n")
            case UInt8(ascii: "\r"): self.writeStaticString("\\r")
            case UInt8(ascii: "\t"): self.writeStaticString("\\t")
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                self.writeStaticString("\\u00")
                self.writeInteger(hex.utf8Start[Int(byte >> 4)])
                self.writeInteger(hex.utf8Start[Int(byte & 0xF)])
            default: self.writeInteger(byte)
            }
        }
        self.writeInteger(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// The value as compact JSON text (tool call arguments are JSON inside a string).
    public var jsonText: String {
        var buffer = ByteBuffer()
        buffer.writeJSON(self)
        return String(buffer: buffer)
    }
}

// MARK: - Reading

/// Decodes wire JSON held in a `ByteBuffer` without copying it into `Data` first.
enum WireJSON {
    static let decoder = JSONDecoder()

    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard buffer.readableBytes > 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "empty JSON text"))
        }
        return try buffer.withUnsafeReadableBytes { bytes in
            let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress!), count: bytes.count, deallocator: .none)
            return try Self.decoder.decode(T.self, from: data)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try Self.decoder.decode(T.self, from: Data(text.utf8))
    }
}
