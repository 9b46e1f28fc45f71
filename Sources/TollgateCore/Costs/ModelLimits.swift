/// What one model can take and write, in tokens, as the provider documents it (from
/// `budgets/prices.yaml`). Unknown limits are nil: the gateway then neither trims a
/// conversation for the model nor caps its output.
public struct ModelLimits: Sendable, Equatable {
    /// Prompt and answer together.
    public var contextWindow: Int?
    /// The most output tokens one answer may have.
    public var maxOutputTokens: Int?

    public init(contextWindow: Int? = nil, maxOutputTokens: Int? = nil) {
        self.contextWindow = contextWindow
        self.maxOutputTokens = maxOutputTokens
    }

    public static let unknown = ModelLimits()
}
