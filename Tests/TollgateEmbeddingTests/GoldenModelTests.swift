import Foundation
import Testing
@testable import TollgateEmbedding

/// Agreement with the reference (scripts/embedding_reference.py: `tokenizers` + numpy float64)
/// on ~50 tricky inputs. Needs the model: run scripts/setup-model.sh.
@Suite struct GoldenModelTests {
    @Test func tokenIDsMatchHuggingFaceTokenizers() throws {
        let embedder = try TestSupport.embedder()
        let golden = try TestSupport.golden()
        #expect(golden.maxTokens == embedder.maxTokens)
        var mismatches = 0
        for item in golden.cases {
            let ids = embedder.tokenIDs(item.text)
            if ids != item.ids {
                mismatches += 1
                Issue.record("token ids differ for \(item.text.debugDescription.prefix(80)): got \(ids.prefix(40)), expected \(item.ids.prefix(40))")
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(golden.cases.count) inputs tokenized differently")
    }

    @Test func embeddingsMatchTheReference() async throws {
        let embedder = try TestSupport.embedder()
        let golden = try TestSupport.golden()
        let batch = try await embedder.embed(golden.cases.map(\.text))
        #expect(batch.vectors.count == golden.cases.count)
        #expect(batch.tokenCounts == golden.cases.map(\.ids.count))
        var worst = 1.0
        for (item, vector) in zip(golden.cases, batch.vectors) {
            #expect(vector.count == 384)
            let cosine = TestSupport.cosine(vector, item.embedding)
            worst = min(worst, cosine)
            #expect(cosine >= 0.9999, "cosine \(cosine) for \(item.text.debugDescription.prefix(80))")
        }
        print("golden: \(golden.cases.count) cases, minimum cosine \(worst)")
    }

    @Test func batchingDoesNotChangeVectors() async throws {
        let embedder = try TestSupport.embedder()
        let texts = try TestSupport.golden().cases.map(\.text)
        let together = try await embedder.embed(texts).vectors
        for (index, text) in texts.enumerated() where index % 5 == 0 {
            let alone = try await embedder.embed([text]).vectors[0]
            let difference = zip(alone, together[index]).map { abs($0 - $1) }.max() ?? 0
            #expect(difference < 1e-5, "batch vs single differ by \(difference) for input \(index)")
        }
    }

    @Test func vectorsAreUnitLength() async throws {
        let embedder = try TestSupport.embedder()
        let batch = try await embedder.embed(["", "a", String(repeating: "long input ", count: 400)])
        for vector in batch.vectors {
            let norm = vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
        #expect(batch.tokenCounts == [2, 3, 256])
        #expect(batch.totalTokens == 261)
    }

    @Test func similarSentencesAreCloserThanUnrelatedOnes() async throws {
        let embedder = try TestSupport.embedder()
        let v = try await embedder.embed([
            "How do I reset my password?", "I forgot my password, how can I change it?", "The weather in Paris is sunny.",
        ]).vectors
        #expect(TestSupport.cosine(v[0], v[1]) > 0.6)
        #expect(TestSupport.cosine(v[0], v[2]) < 0.2)
    }
}
