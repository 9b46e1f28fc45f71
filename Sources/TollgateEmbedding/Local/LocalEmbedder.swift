import COpenBLAS

/// Sentence embeddings computed in-process: a BERT-family sentence-transformers model
/// (all-MiniLM-L6-v2 by default) on OpenBLAS, with no Python and no service at run time.
///
/// The weights are loaded once (projection matrices copied into memory, embedding tables read
/// in place from the memory-mapped `model.safetensors`) and shared by the embedder's worker
/// threads; tokenization and the forward pass never run on Swift's cooperative thread pool.
/// Create one per model and share it: it is `Sendable` and serves concurrent calls, batching
/// those that wait together.
public final class LocalEmbedder: Embedder {
    /// The command that fetches the default model into `models/all-MiniLM-L6-v2`.
    public static let setupCommand = "scripts/setup-model.sh"
    /// The model directory the set-up command fills, relative to the repository root.
    public static let defaultModelDirectory = "models/all-MiniLM-L6-v2"

    public let dimensions: Int
    public let modelName: String
    /// Tokens per input the model sees (`[CLS]` and `[SEP]` included); longer inputs are truncated.
    public let maxTokens: Int
    /// The pooling named by the model's `1_Pooling/config.json`.
    public let pooling: EmbeddingPooling

    private let model: SentenceModel
    private let workers: EmbeddingWorkerPool

    /// Loads a sentence-transformers BERT model directory (`config.json`, `tokenizer.json` or
    /// `vocab.txt`, `model.safetensors`, `1_Pooling/config.json`).
    ///
    /// - Parameters:
    ///   - modelDirectory: the directory; ``defaultModelDirectory`` after ``setupCommand``.
    ///   - modelName: the name reported to clients; `local/<directory name>` by default.
    ///   - threads: worker threads, each running one batch at a time on one core.
    ///   - maxBatchTokens: tokens per forward pass (bounds each worker's scratch memory,
    ///     about 15 KB per token for MiniLM).
    /// - Throws: ``EmbeddingError`` with code ``EmbeddingError/Code/modelNotFound`` (naming the
    ///   missing file and ``setupCommand``) when the directory or a required file is missing.
    ///
    /// Sets OpenBLAS to one thread per call (process-wide), so that each worker uses one core,
    /// and lets ``OpenBLASRuntime`` pick kernels that fit the CPU.
    public init(modelDirectory: String, modelName: String? = nil, threads: Int = 1, maxBatchTokens: Int = 1024) throws {
        OpenBLASRuntime.prepare()
        let model = try SentenceModel(directory: modelDirectory)
        openblas_set_num_threads(1)
        self.model = model
        self.dimensions = model.dimensions
        self.maxTokens = model.maxTokens
        self.pooling = model.pooling
        let directoryName = modelDirectory.split(separator: "/").last.map(String.init) ?? "model"
        self.modelName = modelName ?? "local/\(directoryName)"
        self.workers = EmbeddingWorkerPool(
            model: model, threads: threads, maxBatchTokens: maxBatchTokens, name: "tollgate-embed"
        )
    }

    deinit {
        workers.shutdown()
    }

    /// Embeds `texts` on a worker thread; cancelling the calling task before a worker starts on
    /// it throws `CancellationError`.
    public func embed(_ texts: [String]) async throws -> EmbeddingBatch {
        try await embed(texts, keepingTokenVectors: false)
    }

    /// Embeds `texts` as ``embed(_:)`` does; with `keepingTokenVectors`, the batch also carries
    /// each text's token vectors (``EmbeddingBatch/tokenVectors``). With `maxWaiting`, throws
    /// ``EmbedderSaturated`` at once when that many calls already wait for a worker: a caller
    /// that can do without the embedding (the semantic cache) skips it instead of queueing.
    public func embed(_ texts: [String], keepingTokenVectors: Bool, maxWaiting: Int? = nil) async throws -> EmbeddingBatch {
        guard !texts.isEmpty else { return EmbeddingBatch(vectors: [], tokenCounts: [], tokenVectors: keepingTokenVectors ? [] : nil) }
        try Task.checkCancellation()
        let cancellation = EmbeddingWorkerPool.CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let job = EmbeddingWorkerPool.Job(
                    texts: texts, keepTokenVectors: keepingTokenVectors, cancellation: cancellation, continuation: continuation
                )
                if !workers.submit(job, maxWaiting: maxWaiting) { continuation.resume(throwing: EmbedderSaturated()) }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// The token ids the model would see for `text` (with `[CLS]`/`[SEP]`, truncated).
    /// Cheap enough to call inline, for usage accounting or diagnostics.
    public func tokenIDs(_ text: String) -> [Int32] {
        model.tokenize(text)
    }

    /// The tokenizer of the model.
    public var tokenizer: WordPieceTokenizer { model.tokenizer }
}

/// Thrown by ``LocalEmbedder/embed(_:keepingTokenVectors:maxWaiting:)`` when the workers are
/// too far behind to take more work.
public struct EmbedderSaturated: Error, Sendable {}
