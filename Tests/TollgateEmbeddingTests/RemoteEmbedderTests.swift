import Foundation
import Synchronization
import Testing
@testable import TollgateEmbedding

@Suite struct RemoteEmbedderTests {
    /// Records request bodies and answers with canned responses.
    final class FakeProvider: Sendable {
        private let bodies = Mutex<[[UInt8]]>([])
        let respond: @Sendable (_ request: [String: Any]) -> (Int, String)

        init(respond: @escaping @Sendable (_ request: [String: Any]) -> (Int, String)) {
            self.respond = respond
        }

        /// The request bodies received so far, decoded.
        var requests: [[String: Any]] {
            bodies.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        }

        var transport: RemoteEmbedder.Transport {
            { body in
                let request = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
                self.bodies.withLock { $0.append(body) }
                let (status, response) = self.respond(request)
                return (status, Array(response.utf8))
            }
        }
    }

    /// An OpenAI-shaped answer: input i gets the vector [i+1, 0, 0] scaled by 2, in reverse order.
    static func answer(_ request: [String: Any]) -> (Int, String) {
        let inputs = request["input"] as? [String] ?? []
        let items = inputs.indices.reversed().map {
            #"{"object":"embedding","index":\#($0),"embedding":[\#(2 * ($0 + 1)),0,0]}"#
        }
        return (200, #"{"object":"list","data":[\#(items.joined(separator: ","))],"model":"m","usage":{"prompt_tokens":\#(inputs.count * 3),"total_tokens":\#(inputs.count * 3)}}"#)
    }

    @Test func sendsTheOpenAIRequestAndOrdersVectorsByIndex() async throws {
        let provider = FakeProvider(respond: Self.answer)
        let embedder = RemoteEmbedder(model: "text-embedding-3-small", dimensions: 3, transport: provider.transport)
        let batch = try await embedder.embed(["a", "b/c", "ü"])
        let request = try #require(provider.requests.first)
        #expect(request["model"] as? String == "text-embedding-3-small")
        #expect(request["input"] as? [String] == ["a", "b/c", "ü"])
        #expect(batch.vectors == [[1, 0, 0], [1, 0, 0], [1, 0, 0]])
        #expect(batch.totalTokens == 9)
        #expect(batch.tokenCounts == nil)
        #expect(embedder.modelName == "text-embedding-3-small" && embedder.dimensions == 3)
    }

    @Test func splitsLargeCallsIntoSeveralRequests() async throws {
        let provider = FakeProvider { request in
            let inputs = request["input"] as? [String] ?? []
            let items = inputs.enumerated().map { #"{"index":\#($0.offset),"embedding":[\#($0.element),1]}"# }
            return (200, #"{"data":[\#(items.joined(separator: ","))],"usage":{"prompt_tokens":1,"total_tokens":1}}"#)
        }
        let embedder = RemoteEmbedder(model: "m", dimensions: 2, maxInputsPerRequest: 2, transport: provider.transport)
        let batch = try await embedder.embed(["1", "2", "3", "4", "5"])
        #expect(provider.requests.map { ($0["input"] as? [String])?.count ?? 0 } == [2, 2, 1])
        #expect(batch.vectors.count == 5)
        #expect(batch.vectors[4].map { ($0 * 1000).rounded() } == [981, 196])  // [5, 1] normalised
        #expect(batch.totalTokens == 3)
    }

    @Test func decodesBase64Vectors() async throws {
        let floats: [Float] = [3, 4]
        let base64 = floats.withUnsafeBytes { Data($0).base64EncodedString() }
        let provider = FakeProvider { _ in (200, #"{"data":[{"index":0,"embedding":"\#(base64)"}]}"#) }
        let batch = try await RemoteEmbedder(model: "m", dimensions: 2, transport: provider.transport).embed(["x"])
        #expect(batch.vectors == [[0.6, 0.8]])
        #expect(batch.totalTokens == 0)
    }

    @Test func providerErrorsCarryStatusAndMessage() async throws {
        let provider = FakeProvider { _ in (429, #"{"error":{"message":"Rate limit reached","type":"requests"}}"#) }
        let embedder = RemoteEmbedder(model: "m", dimensions: 2, transport: provider.transport)
        let error = try await #require(throws: EmbeddingError.self) { try await embedder.embed(["x"]) }
        #expect(error.code == .providerError)
        #expect(error.status == 429)
        #expect(error.message.contains("Rate limit reached"))
    }

    @Test(arguments: [
        #"not json"#,
        #"{"data":[]}"#,
        #"{"data":[{"index":0,"embedding":[1,2,3]}]}"#,
        #"{"data":[{"index":1,"embedding":[1,2]}]}"#,
        #"{"data":[{"index":0,"embedding":"@@@"}]}"#,
    ])
    func malformedResponsesAreInvalid(_ body: String) async throws {
        let provider = FakeProvider { _ in (200, body) }
        let embedder = RemoteEmbedder(model: "m", dimensions: 2, transport: provider.transport)
        let error = try await #require(throws: EmbeddingError.self) { try await embedder.embed(["x"]) }
        #expect(error.code == .invalidResponse)
    }

    @Test func emptyInputSendsNothing() async throws {
        let provider = FakeProvider(respond: Self.answer)
        let batch = try await RemoteEmbedder(model: "m", dimensions: 3, transport: provider.transport).embed([])
        #expect(batch.vectors.isEmpty)
        #expect(provider.requests.isEmpty)
    }

    @Test func worksThroughTheProtocol() async throws {
        let embedder: any Embedder = RemoteEmbedder(model: "m", dimensions: 3, transport: FakeProvider(respond: Self.answer).transport)
        #expect(try await embedder.embed(["x", "y"]).vectors.count == 2)
    }
}
