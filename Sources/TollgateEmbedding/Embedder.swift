/// Turns texts into sentence embeddings: one L2-normalised `Float` vector per input, in order.
///
/// The semantic cache and semantic routing call this for every request, so an implementation
/// must be safe to call concurrently. Two implementations: ``LocalEmbedder`` (in-process BERT
/// on OpenBLAS) and ``RemoteEmbedder`` (an OpenAI-compatible `/v1/embeddings` endpoint).
public protocol Embedder: Sendable {
    /// Length of every vector this embedder returns.
    var dimensions: Int { get }
    /// The model name reported to clients (for example `local/all-MiniLM-L6-v2`).
    var modelName: String { get }
    /// Embeds `texts`; the result has one vector per text, in the same order.
    func embed(_ texts: [String]) async throws -> EmbeddingBatch
}
