import Foundation
import NIOCore

extension TokenUsage {
    /// OpenAI's `usage` object: `prompt_tokens` (cached ones included, see
    /// `prompt_tokens_details.cached_tokens`) and `completion_tokens` (reasoning included).
    struct OpenAIWire: Decodable {
        struct PromptDetails: Decodable { var cached_tokens: Int? }
        var prompt_tokens: Int?
        var completion_tokens: Int?
        var prompt_tokens_details: PromptDetails?
    }

    init(_ wire: OpenAIWire) {
        self.init(
            inputTokens: wire.prompt_tokens ?? 0, cachedInputTokens: wire.prompt_tokens_details?.cached_tokens ?? 0,
            outputTokens: wire.completion_tokens ?? 0
        )
    }

    /// The usage in an OpenAI response body (a chat completion or embeddings list), without
    /// decoding the whole body: `usage` is the last top-level member providers write, so
    /// the scan starts from the end. Nil when the body carries no usage.
    public static func fromOpenAIBody(_ body: ByteBuffer) -> TokenUsage? {
        let bytes = body.readableBytesView
        guard let object = Self.lastObject(named: Array(#""usage""#.utf8), in: bytes) else { return nil }
        guard let wire = try? JSONDecoder().decode(OpenAIWire.self, from: Data(object)) else { return nil }
        return TokenUsage(wire)
    }

    /// The bytes of the JSON object that follows the last `"name":` in `bytes`.
    static func lastObject(named name: [UInt8], in bytes: ByteBufferView) -> ByteBufferView? {
        var index = bytes.endIndex - name.count
        while index >= bytes.startIndex {
            if bytes[index] == UInt8(ascii: "\""), bytes[index..<(index + name.count)].elementsEqual(name) {
                var cursor = index + name.count
                while cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: " ") || bytes[cursor] == UInt8(ascii: ":") || bytes[cursor] == UInt8(ascii: "\n") || bytes[cursor] == UInt8(ascii: "\t") || bytes[cursor] == UInt8(ascii: "\r") {
                    cursor += 1
                }
                guard cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: "{") else { return nil }
                if let end = Self.endOfObject(in: bytes, from: cursor) { return bytes[cursor..<end] }
                return nil
            }
            index -= 1
        }
        return nil
    }

    /// One past the `}` closing the object that starts at `start`, skipping strings.
    static func endOfObject(in bytes: ByteBufferView, from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        var index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return index + 1 }
            }
            index += 1
        }
        return nil
    }
}
