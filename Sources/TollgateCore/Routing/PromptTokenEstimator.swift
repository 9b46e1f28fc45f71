/// A request's prompt tokens for routing and rate limits.
///
/// With ``Tokenizers`` loaded (`scripts/setup-tokenizer.sh` fetches the rank files), the count
/// is a real BPE count with the model's encoding (``TokenCounter/count(_:)``). Without them,
/// the fallback is a cheap estimate: about four UTF-8 bytes per token, plus OpenAI's
/// per-message framing and a flat cost per image and tool; it is off by 20-30% on typical
/// English prompts and far more on code, numbers and non-Latin scripts.
public enum PromptTokenEstimator {
    /// The request's prompt tokens: counted with `tokenizers` when given, else estimated from
    /// its byte length (``estimate(_:)``).
    public static func estimate(_ request: ChatCompletionRequest, tokenizers: Tokenizers?) -> Int {
        guard let tokenizers else { return Self.estimate(request) }
        return tokenizers.counter(forModel: request.model).count(request)
    }

    /// Tokens OpenAI adds around each message (role and separators).
    static let perMessageOverhead = 4
    /// Tokens that prime the assistant's reply.
    static let replyPriming = 3
    /// A low-detail image; high-detail images cost more, which this estimate ignores.
    static let perImage = 85
    /// A typical function definition.
    static let perTool = 64

    /// Tokens for a text of `utf8Bytes` bytes.
    @inlinable
    public static func tokens(utf8Bytes: Int) -> Int { (utf8Bytes + 3) / 4 }

    /// The byte-length estimate for a whole request: the fallback when no rank files are loaded.
    public static func estimate(_ request: ChatCompletionRequest) -> Int {
        var total = Self.replyPriming + (request.tools?.count ?? 0) * Self.perTool
        for message in request.messages {
            total += Self.perMessageOverhead
            guard let content = message.content else { continue }
            switch content {
            case .text(let text):
                total += Self.tokens(utf8Bytes: text.utf8.count)
            case .parts(let parts):
                for part in parts {
                    if let text = part["text"]?.stringValue { total += Self.tokens(utf8Bytes: text.utf8.count) }
                    if part["type"]?.stringValue == "image_url" { total += Self.perImage }
                }
            }
        }
        return total
    }
}
