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
        let counter = tokenizers.counter(forModel: request.model)
        let textBytes = Self.textBytes(request)
        guard textBytes > Self.exactCountLimit else { return counter.count(request) }
        return Self.extrapolate(request, textBytes: textBytes, counter: counter)
    }

    /// Prompts with more text than this are counted from a sample: BPE runs at about 30 MB/s
    /// on CJK text, and an 8 MB body must not hold a request thread for a quarter second.
    static let exactCountLimit = 128 << 10
    static let sampleBytes = 32 << 10

    /// Tokens per byte of the first `sampleBytes` of text, applied to the whole text with a
    /// 10% margin (reservations should err high), plus the byte estimate's framing.
    static func extrapolate(_ request: ChatCompletionRequest, textBytes: Int, counter: TokenCounter) -> Int {
        var sample: [UInt8] = []
        sample.reserveCapacity(Self.sampleBytes)
        Self.forEachText(request) { text in
            guard sample.count < Self.sampleBytes else { return }
            sample.append(contentsOf: text.utf8.prefix(Self.sampleBytes - sample.count))
        }
        let sampleText = String(decoding: sample, as: UTF8.self)
        let perByte = Double(counter.count(sampleText)) / Double(max(1, sampleText.utf8.count))
        let framing = Self.estimate(request) - Self.tokens(utf8Bytes: textBytes)
        return Int((Double(textBytes) * perByte * 1.1).rounded(.up)) + max(0, framing)
    }

    static func textBytes(_ request: ChatCompletionRequest) -> Int {
        var total = 0
        Self.forEachText(request) { total += $0.utf8.count }
        return total
    }

    static func forEachText(_ request: ChatCompletionRequest, _ body: (String) -> Void) {
        for message in request.messages {
            switch message.content {
            case .text(let text): body(text)
            case .parts(let parts): for part in parts { if let text = part["text"]?.stringValue { body(text) } }
            case nil: break
            }
        }
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
