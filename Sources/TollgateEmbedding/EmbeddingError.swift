/// Why an embedder could not be created or could not answer.
///
/// Match on ``code``; ``message`` is meant for operators and names the file, key or
/// provider status involved (never the input texts).
public struct EmbeddingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case modelNotFound, invalidModel, unsupportedModel, providerError, invalidResponse, invalidInput
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A model directory or one of its required files is missing: run the set-up script.
        public static let modelNotFound = Code(.modelNotFound)
        /// A model file exists but cannot be parsed or is inconsistent with the configuration.
        public static let invalidModel = Code(.invalidModel)
        /// The model is well-formed but uses something this implementation does not support.
        public static let unsupportedModel = Code(.unsupportedModel)
        /// A remote provider answered with a non-2xx status.
        public static let providerError = Code(.providerError)
        /// A remote provider answered 2xx with a body that is not a valid embeddings response.
        public static let invalidResponse = Code(.invalidResponse)
        /// The caller's arguments cannot be embedded.
        public static let invalidInput = Code(.invalidInput)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// A one-line explanation for logs and error responses.
    public let message: String
    /// The provider's HTTP status, for ``Code/providerError``.
    public let status: Int?

    public init(_ code: Code, _ message: String, status: Int? = nil) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { "\(code): \(message)" }

    // MARK: Constructors used across the module

    static func modelNotFound(directory: String, missing: String) -> EmbeddingError {
        EmbeddingError(
            .modelNotFound,
            "embedding model not found: '\(directory)' has no \(missing). "
                + "Run \(LocalEmbedder.setupCommand) to fetch all-MiniLM-L6-v2 into models/all-MiniLM-L6-v2, "
                + "or set the embedding model directory in tollgate.yaml to a sentence-transformers BERT model."
        )
    }

    static func invalidModel(_ file: String, _ reason: String) -> EmbeddingError {
        EmbeddingError(.invalidModel, "invalid model file '\(file)': \(reason)")
    }

    static func unsupportedModel(_ file: String, _ reason: String) -> EmbeddingError {
        EmbeddingError(.unsupportedModel, "unsupported model '\(file)': \(reason)")
    }
}
