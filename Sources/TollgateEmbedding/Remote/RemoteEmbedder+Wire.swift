import Foundation

extension RemoteEmbedder {
    /// The OpenAI Embeddings JSON format.
    enum Wire {
        struct Request: Encodable {
            var model: String
            var input: [String]
        }

        struct Response: Decodable {
            struct Item: Decodable {
                var index: Int?
                var embedding: Embedding
            }

            struct Usage: Decodable {
                var promptTokens: Int?
                var totalTokens: Int?

                enum CodingKeys: String, CodingKey {
                    case promptTokens = "prompt_tokens", totalTokens = "total_tokens"
                }
            }

            var data: [Item]
            var usage: Usage?
        }

        /// A vector as a JSON array of numbers, or as base64 of little-endian float32s
        /// (`encoding_format: "base64"`), which some providers return.
        struct Embedding: Decodable {
            var values: [Float]

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let array = try? container.decode([Float].self) {
                    values = array
                    return
                }
                let text = try container.decode(String.self)
                guard let data = Data(base64Encoded: text), data.count % 4 == 0 else {
                    throw DecodingError.dataCorruptedError(
                        in: container, debugDescription: "embedding is neither an array nor base64 float32"
                    )
                }
                values = data.withUnsafeBytes { raw in
                    (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                }
            }
        }

        struct ErrorBody: Decodable {
            struct Detail: Decodable { var message: String? }
            var error: Detail?
        }

        static func requestBody(model: String, inputs: [String]) throws -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(Request(model: model, input: inputs)))
        }

        /// Vectors in input order (by `index`), L2-normalised, and the tokens the provider counted.
        static func decodeResponse(_ body: [UInt8], inputCount: Int, dimensions: Int) throws -> (vectors: [[Float]], totalTokens: Int) {
            let response: Response
            do {
                response = try JSONDecoder().decode(Response.self, from: Data(body))
            } catch {
                throw EmbeddingError(.invalidResponse, "embeddings response is not valid JSON of the OpenAI format: \(error)")
            }
            guard response.data.count == inputCount else {
                throw EmbeddingError(
                    .invalidResponse, "embeddings response has \(response.data.count) vectors for \(inputCount) inputs"
                )
            }
            var vectors = [[Float]?](repeating: nil, count: inputCount)
            for (position, item) in response.data.enumerated() {
                let index = item.index ?? position
                guard vectors.indices.contains(index), vectors[index] == nil else {
                    throw EmbeddingError(.invalidResponse, "embeddings response has a missing or repeated index \(index)")
                }
                guard item.embedding.values.count == dimensions else {
                    throw EmbeddingError(
                        .invalidResponse,
                        "embedding \(index) has \(item.embedding.values.count) dimensions, expected \(dimensions)"
                    )
                }
                vectors[index] = normalized(item.embedding.values)
            }
            let tokens = response.usage?.totalTokens ?? response.usage?.promptTokens ?? 0
            return (vectors.map { $0! }, tokens)
        }

        /// The provider's `error.message`, shortened, when the body has one.
        static func errorMessage(_ body: [UInt8]) -> String? {
            guard let message = (try? JSONDecoder().decode(ErrorBody.self, from: Data(body)))?.error?.message else {
                return nil
            }
            return message.count > 300 ? String(message.prefix(300)) + "…" : message
        }

        static func normalized(_ vector: [Float]) -> [Float] {
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0, norm.isFinite else { return vector }
            return vector.map { $0 / norm }
        }
    }
}
