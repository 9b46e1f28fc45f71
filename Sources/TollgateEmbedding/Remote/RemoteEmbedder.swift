/// Embeddings from an OpenAI-compatible `POST /v1/embeddings` endpoint.
///
/// This type owns the wire format only; the HTTP exchange is the injected ``Transport``
/// (the server wires its upstream client, tests a closure), which receives the JSON request
/// body and returns the status and body of the response.
public struct RemoteEmbedder: Embedder {
    /// Sends one request body to the provider's embeddings URL and returns its answer.
    public typealias Transport = @Sendable (_ body: [UInt8]) async throws -> (status: Int, body: [UInt8])

    /// The model name sent upstream and reported to clients.
    public let modelName: String
    /// Expected vector length; a response with another length is an error.
    public let dimensions: Int
    /// Inputs per upstream request (OpenAI accepts up to 2048); larger calls are split.
    public let maxInputsPerRequest: Int
    private let transport: Transport

    public init(model: String, dimensions: Int, maxInputsPerRequest: Int = 2048, transport: @escaping Transport) {
        precondition(dimensions > 0 && maxInputsPerRequest > 0)
        self.modelName = model
        self.dimensions = dimensions
        self.maxInputsPerRequest = maxInputsPerRequest
        self.transport = transport
    }

    public func embed(_ texts: [String]) async throws -> EmbeddingBatch {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var totalTokens = 0
        var start = 0
        while start < texts.count {
            let inputs = Array(texts[start..<min(start + maxInputsPerRequest, texts.count)])
            start += inputs.count
            let response = try await transport(Wire.requestBody(model: modelName, inputs: inputs))
            guard (200..<300).contains(response.status) else {
                throw EmbeddingError(
                    .providerError,
                    "embeddings provider answered HTTP \(response.status) for model '\(modelName)'"
                        + (Wire.errorMessage(response.body).map { ": \($0)" } ?? ""),
                    status: response.status
                )
            }
            let decoded = try Wire.decodeResponse(response.body, inputCount: inputs.count, dimensions: dimensions)
            vectors.append(contentsOf: decoded.vectors)
            totalTokens += decoded.totalTokens
        }
        return EmbeddingBatch(vectors: vectors, tokenCounts: nil, totalTokens: totalTokens)
    }
}
