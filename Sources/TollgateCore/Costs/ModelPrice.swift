/// What one model costs, in USD per million tokens, as the provider lists it.
public struct ModelPrice: Sendable, Equatable {
    public var inputPerMillion: Double
    /// Prompt tokens read from the provider's prompt cache; defaults to the input price.
    public var cachedInputPerMillion: Double
    /// Prompt tokens written to the provider's prompt cache (Anthropic charges a premium);
    /// defaults to the input price.
    public var cacheWritePerMillion: Double
    public var outputPerMillion: Double

    public init(inputPerMillion: Double, cachedInputPerMillion: Double? = nil, cacheWritePerMillion: Double? = nil, outputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion ?? inputPerMillion
        self.cacheWritePerMillion = cacheWritePerMillion ?? inputPerMillion
        self.outputPerMillion = outputPerMillion
    }

    /// A model that costs nothing (the local embedding model, a self-hosted one).
    public static let free = ModelPrice(inputPerMillion: 0, outputPerMillion: 0)

    public var isFree: Bool {
        self.inputPerMillion == 0 && self.cachedInputPerMillion == 0 && self.cacheWritePerMillion == 0 && self.outputPerMillion == 0
    }

    /// The exact cost of what a provider reported.
    public func cost(of usage: TokenUsage) -> USD {
        Self.cost(tokens: usage.uncachedInputTokens, perMillion: self.inputPerMillion)
            + Self.cost(tokens: usage.cachedInputTokens, perMillion: self.cachedInputPerMillion)
            + Self.cost(tokens: usage.cacheWriteInputTokens, perMillion: self.cacheWritePerMillion)
            + Self.cost(tokens: usage.outputTokens, perMillion: self.outputPerMillion)
    }

    /// The most a request can cost before it runs: every prompt token uncached and every
    /// allowed output token produced. Budgets reserve this, so they can never be overspent.
    public func worstCaseCost(inputTokens: Int, maxOutputTokens: Int) -> USD {
        let input = Self.cost(tokens: inputTokens, perMillion: max(self.inputPerMillion, self.cacheWritePerMillion))
        return input + Self.cost(tokens: maxOutputTokens, perMillion: self.outputPerMillion)
    }

    /// USD per million tokens is exactly nanodollars per thousand tokens.
    static func cost(tokens: Int, perMillion price: Double) -> USD {
        guard tokens > 0, price > 0 else { return .zero }
        return USD(saturating: (Double(tokens) * price * 1000).rounded(.up))
    }
}
