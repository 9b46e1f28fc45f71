import Crypto
import NIOCore

/// The exact cache's key: a SHA-256 over what determines an answer, so that only a request
/// that would get the same answer from the same model finds it. The request's JSON is read
/// whole (messages, system prompt, tools and tool choice, response format and every
/// parameter, known or not) in a canonical form: keys sorted, whitespace gone, integral
/// numbers written alike. Left out are the fields that do not change the answer (`user`,
/// `stream`, `stream_options`, `metadata`, `store`). The served model (after routing), the
/// route's output cap, the client format and the tenant's scope are part of it.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    /// 64 lowercase hex digits.
    public let hex: String

    public var description: String { self.hex }

    /// Fields that never change the answer.
    static let ignoredFields: Set<String> = ["user", "stream", "stream_options", "metadata", "store"]

    /// The key of `body` (a request's JSON), or nil when it is not a JSON object.
    public init?(body: ByteBuffer, format: CachedAnswer.Format, servedModel: String, outputCap: Int?, scope: String) {
        guard let request = Self.object(body) else { return nil }
        self.init(request: request, kind: "tollgate-cache-v1", format: format, servedModel: servedModel, outputCap: outputCap, scope: scope)
    }

    /// The semantic cache's view of `body`: the key of its partition (everything the exact
    /// key covers except the last message) and the question (the last message's text). Nil
    /// unless the last message is the user's, in plain text.
    public static func semantic(
        body: ByteBuffer, format: CachedAnswer.Format, servedModel: String, outputCap: Int?, scope: String
    ) -> (partition: CacheKey, question: String)? {
        guard var request = Self.object(body), case .array(var messages)? = request["messages"], case .object(let last)? = messages.last,
            last["role"] == .string("user"), let question = Self.plainText(last["content"]), !question.isEmpty
        else { return nil }
        messages.removeLast()
        request["messages"] = .array(messages)
        let partition = CacheKey(
            request: request, kind: "tollgate-semantic-v1", format: format, servedModel: servedModel, outputCap: outputCap, scope: scope
        )
        return (partition, question)
    }

    private static func object(_ body: ByteBuffer) -> JSONObject? {
        guard let value = body.withUnsafeReadableBytes({ try? JSONParser.parse($0) }), case .object(let request) = value else { return nil }
        return request
    }

    /// A message's content when it is text only: a string, or text parts (either format).
    private static func plainText(_ content: JSONValue?) -> String? {
        switch content {
        case .string(let text)?: return text
        case .array(let parts)?:
            var text = ""
            for part in parts {
                guard case .object(let part) = part, part["type"] == .string("text"), case .string(let piece)? = part["text"] else { return nil }
                text += text.isEmpty ? piece : "\n" + piece
            }
            return text
        default: return nil
        }
    }

    private init(request: JSONObject, kind: String, format: CachedAnswer.Format, servedModel: String, outputCap: Int?, scope: String) {
        var request = request
        for field in Self.ignoredFields { request[field] = nil }
        request["model"] = .string(servedModel)
        var text = kind + "\n" + format.rawValue + "\n" + scope + "\n" + (outputCap.map(String.init) ?? "-") + "\n"
        text += JSONText.compact(Self.canonical(.object(request)))
        self.hex = SHA256.hash(data: Array(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// `1.0` and `1` are the same temperature.
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let double) where double.rounded() == double && abs(double) < 9e15: .int(Int64(double))
        case .array(let elements): .array(elements.map(Self.canonical))
        case .object(let object):
            .object(object.reduce(into: JSONObject()) { $0[$1.key] = Self.canonical($1.value) })
        default: value
        }
    }
}
