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
    /// the scan starts from the end, and only that small object is parsed. Nil when the
    /// body carries no usage, or one with counts that are not integers.
    public static func fromOpenAIBody(_ body: ByteBuffer) -> TokenUsage? {
        body.withUnsafeReadableBytes { bytes -> TokenUsage? in
            let name: StaticString = #""usage""#
            guard let found = ByteScan.lastIndex(of: name, in: bytes) else { return nil }
            var start = ByteScan.skipWhitespace(in: bytes, from: found + name.utf8CodeUnitCount)
            guard start < bytes.count, bytes[start] == UInt8(ascii: ":") else { return nil }
            start = ByteScan.skipWhitespace(in: bytes, from: start + 1)
            guard start < bytes.count, bytes[start] == UInt8(ascii: "{"),
                let end = ByteScan.endOfObject(in: bytes, from: start),
                case .object(let usage)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            else { return nil }
            let details = usage["prompt_tokens_details"]
            guard let input = Self.count(usage["prompt_tokens"]), let output = Self.count(usage["completion_tokens"]),
                let cached = Self.count(details?["cached_tokens"])
            else { return nil }
            return TokenUsage(inputTokens: input ?? 0, cachedInputTokens: cached ?? 0, outputTokens: output ?? 0)
        }
    }

    /// A token count: `.some(nil)` when absent or null, nil when it is not an integer.
    private static func count(_ value: JSONValue?) -> Int?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .int(let number)?: return .some(Int(number))
        default: return nil
        }
    }
}
