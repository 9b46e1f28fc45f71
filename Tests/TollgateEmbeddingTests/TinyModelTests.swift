import Foundation
import Testing
@testable import TollgateEmbedding

/// The loader's other paths on a small random BERT written by scripts/embedding_reference.py
/// (no set-up needed): F16 weights named `bert.*`, `vocab.txt` without `tokenizer.json`,
/// CLS pooling (as bge-small-en-v1.5 uses) and a 16-token limit.
@Suite struct TinyModelTests {
    struct Golden: Decodable {
        var maxTokens: Int
        var cases: [TestSupport.Golden.Case]
    }

    @Test func matchesTheReference() async throws {
        let directory = try TestSupport.fixture("tiny-bert-cls")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: directory.appendingPathComponent("golden.json")))
        let embedder = try LocalEmbedder(modelDirectory: directory.path)
        #expect(embedder.pooling == .cls)
        #expect(embedder.dimensions == 32)
        #expect(embedder.maxTokens == golden.maxTokens)
        #expect(embedder.modelName == "local/tiny-bert-cls")

        for item in golden.cases {
            #expect(embedder.tokenIDs(item.text) == item.ids, "\(item.text)")
        }
        let batch = try await embedder.embed(golden.cases.map(\.text))
        #expect(batch.tokenCounts == golden.cases.map(\.ids.count))
        for (item, vector) in zip(golden.cases, batch.vectors) {
            let cosine = TestSupport.cosine(vector, item.embedding)
            #expect(cosine >= 0.9999, "cosine \(cosine) for \(item.text)")
        }
    }

    @Test func unsupportedPoolingIsNamed() throws {
        let source = try TestSupport.fixture("tiny-bert-cls")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-tiny-\(UUID())")
        try FileManager.default.copyItem(at: source, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        try Data(#"{"pooling_mode_max_tokens": true}"#.utf8)
            .write(to: copy.appendingPathComponent("1_Pooling/config.json"))
        let error = try #require(throws: EmbeddingError.self) { try LocalEmbedder(modelDirectory: copy.path) }
        #expect(error.code == .unsupportedModel)
        #expect(error.message.contains("pooling_mode_max_tokens"))
    }
}
