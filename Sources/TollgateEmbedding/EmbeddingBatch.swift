/// The vectors for one ``Embedder/embed(_:)`` call, with the token usage to report.
public struct EmbeddingBatch: Sendable, Equatable {
    /// One L2-normalised vector per input, in input order.
    public var vectors: [[Float]]
    /// Tokens the model consumed for each input (after truncation, including `[CLS]` and
    /// `[SEP]`), where the embedder knows them; `nil` when a provider reports only a total.
    public var tokenCounts: [Int]?
    /// Tokens consumed by the whole call: what `/v1/embeddings` reports as `usage`.
    public var totalTokens: Int
    /// Per input, when asked for (``LocalEmbedder/embed(_:keepingTokenVectors:)``): the final
    /// hidden state of each word-piece token between `[CLS]` and `[SEP]`, L2-normalised, one
    /// `dimensions`-float row per token, rows concatenated.
    public var tokenVectors: [[Float]]?

    /// Creates a batch; `totalTokens` defaults to the sum of `tokenCounts`.
    public init(vectors: [[Float]], tokenCounts: [Int]?, totalTokens: Int? = nil, tokenVectors: [[Float]]? = nil) {
        self.vectors = vectors
        self.tokenVectors = tokenVectors
        self.tokenCounts = tokenCounts
        self.totalTokens = totalTokens ?? tokenCounts?.reduce(0, +) ?? 0
    }
}
