import Foundation
import Testing
@testable import TollgateEmbedding

/// The shipped guard on real questions and the real model, in a store that holds a few other
/// questions too (so that the neighbourhood features are those of a used cache).
@Suite struct SemanticGuardTests {
    static let background = [
        "What is the best way to learn to cook?", "How do I reset my router password?", "Why is the sky blue?",
        "What are good books about history?", "How can I get better sleep at night?", "How do I start running?",
    ]

    /// Stores `stored` (and the background questions) and asks `asked` with `guardModel`.
    func served(_ asked: String, stored: String, guard guardModel: SemanticGuard = .strict) async throws -> Bool {
        let embedder = try TestSupport.embedder()
        let texts = Self.background + [stored, asked]
        let batch = try await embedder.embed(texts, keepingTokenVectors: true)
        let store = SemanticStore(dimensions: embedder.dimensions)
        defer { store.shutdown() }
        for index in 0..<texts.count - 1 {
            store.insert(
                partition: "p", vector: batch.vectors[index],
                profile: QuestionProfile(text: texts[index], tokenVectors: batch.tokenVectors![index]),
                payload: Array(texts[index].utf8), expiry: Date().timeIntervalSince1970 + 60
            )
        }
        let hit = await store.search(
            partition: "p", vector: batch.vectors.last!, profile: QuestionProfile(text: asked, tokenVectors: batch.tokenVectors!.last!),
            guard: guardModel
        )
        if let hit { #expect(String(decoding: hit.payload, as: UTF8.self) == stored) }
        return hit != nil
    }

    @Test func aParaphraseIsServed() async throws {
        #expect(try await served("How do I improve my English speaking skills?", stored: "How can I improve my English speaking skills?"))
        #expect(try await served("What's the capital city of France?", stored: "What is the capital city of France?"))
    }

    @Test(arguments: [
        ("What is the population of India in 2010?", "What is the population of India in 2020?"),
        ("Is coffee not good for your health?", "Is coffee good for your health?"),
        ("How do I learn Java programming?", "How do I learn Python programming?"),
        ("I found a few hundred dollars, what should I do?", "I found a few thousand dollars, what should I do?"),
    ])
    func aQuestionThatDiffersWhereItMattersIsNot(asked: String, stored: String) async throws {
        #expect(try await served(asked, stored: stored) == false)
    }

    @Test func profilesKeepNumbersNegationsAndWordOrder() {
        let profile = QuestionProfile(text: "Why doesn't the 2 o'clock train run to Paris on three Sundays?", tokenVectors: [])
        #expect(profile.negated)
        #expect(profile.numbers.count == 2, "2 and three")
        let other = QuestionProfile(text: "Why does the train run to Paris on Sundays?", tokenVectors: [])
        #expect(!other.negated)
        #expect(SemanticGuard.inversions(profile.wordSequence, other.wordSequence) == 0)
        let swapped = QuestionProfile(text: "Convert ethene to ethane", tokenVectors: [])
        let original = QuestionProfile(text: "Convert ethane to ethene", tokenVectors: [])
        #expect(SemanticGuard.inversions(swapped.wordSequence, original.wordSequence) > 0.3)
        #expect(SemanticGuard.missingFraction(profile.words, in: profile.words) == 0)
    }

    @Test func theShippedPresetsHaveOneWeightPerFeature() {
        for preset in [SemanticGuard.strict, .balanced] {
            #expect(preset.weights.count == SemanticGuard.Feature.allCases.count)
            #expect(preset.threshold > 0 && preset.threshold < 1)
        }
        #expect(SemanticGuard.strict.weights == SemanticGuard.balanced.weights && SemanticGuard.strict.threshold > SemanticGuard.balanced.threshold)
    }
}
