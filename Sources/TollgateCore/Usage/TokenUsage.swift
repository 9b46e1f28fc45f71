/// Tokens a provider billed for one request, normalised across wire formats.
///
/// OpenAI reports `prompt_tokens` including cached ones (`prompt_tokens_details.cached_tokens`
/// is a subset); Anthropic reports `input_tokens` excluding cache reads and writes. Here
/// `inputTokens` is always the whole prompt, so the two formats price the same way.
public struct TokenUsage: Sendable, Equatable, Hashable {
    /// Every prompt token, cached or not, including tokens written to a prompt cache.
    public var inputTokens: Int
    /// The part of `inputTokens` read from the provider's prompt cache (cheaper).
    public var cachedInputTokens: Int
    /// The part of `inputTokens` written to the provider's prompt cache (Anthropic
    /// `cache_creation_input_tokens`; billed at a premium there).
    public var cacheWriteInputTokens: Int
    /// Completion tokens, reasoning tokens included.
    public var outputTokens: Int

    public init(inputTokens: Int = 0, cachedInputTokens: Int = 0, cacheWriteInputTokens: Int = 0, outputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteInputTokens = cacheWriteInputTokens
        self.outputTokens = outputTokens
    }

    public static let zero = TokenUsage()

    /// Prompt tokens billed at the plain input price.
    public var uncachedInputTokens: Int {
        max(0, self.inputTokens.saturatingSubtract(self.cachedInputTokens).saturatingSubtract(self.cacheWriteInputTokens))
    }

    public var totalTokens: Int { self.inputTokens.saturatingAdd(self.outputTokens) }
}

extension Int {
    /// Token counts come from clients and providers: sums must clamp, not trap.
    public func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = self.addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    public func saturatingSubtract(_ other: Int) -> Int {
        let (difference, overflow) = self.subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}
