import Foundation
import Testing
@testable import TollgateEmbedding

@Suite struct LocalEmbedderTests {
    @Test func missingModelDirectoryNamesTheSetupCommand() throws {
        let error = try #require(throws: EmbeddingError.self) {
            try LocalEmbedder(modelDirectory: "/nonexistent/models/all-MiniLM-L6-v2")
        }
        #expect(error.code == .modelNotFound)
        #expect(error.message.contains("scripts/setup-model.sh"))
        #expect(error.message.contains("/nonexistent/models/all-MiniLM-L6-v2"))
    }

    @Test func missingWeightsFileIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-model-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(#"{"hidden_size": 8}"#.utf8).write(to: directory.appendingPathComponent("config.json"))
        let error = try #require(throws: EmbeddingError.self) { try LocalEmbedder(modelDirectory: directory.path) }
        #expect(error.code == .modelNotFound)
        #expect(error.message.contains("model.safetensors"))
        #expect(error.message.contains(LocalEmbedder.setupCommand))
    }

    @Test func describesTheModel() throws {
        let embedder = try TestSupport.embedder()
        #expect(embedder.modelName == "local/all-MiniLM-L6-v2")
        #expect(embedder.dimensions == 384)
        #expect(embedder.maxTokens == 256)
        #expect(embedder.pooling == .mean)
    }

    @Test func emptyInputNeedsNoWorker() async throws {
        let batch = try await TestSupport.embedder().embed([])
        #expect(batch == EmbeddingBatch(vectors: [], tokenCounts: []))
    }

    @Test func concurrentCallsGetTheirOwnVectors() async throws {
        let embedder = try TestSupport.embedder()
        // More callers than one coalesced batch (64 texts), so the queue is also compacted.
        let texts = (0..<150).map { "request number \($0) about topic \($0 % 7)" }
        let expected = try await embedder.embed(texts).vectors
        let results = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (index, text) in texts.enumerated() {
                group.addTask { (index, try await embedder.embed([text]).vectors[0]) }
            }
            return try await group.reduce(into: [Int: [Float]]()) { $0[$1.0] = $1.1 }
        }
        for (index, vector) in results {
            #expect(TestSupport.cosine(vector, expected[index]) > 0.99999)
        }
    }

    @Test func cancelledCallThrowsCancellationError() async throws {
        let embedder = try TestSupport.embedder()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await embedder.embed(["cancelled before it starts"])
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
