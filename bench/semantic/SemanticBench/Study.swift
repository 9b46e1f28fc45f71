import Foundation
import TollgateEmbedding

/// The semantic cache's precision study on Quora Question Pairs (issue 18's protocol): samples
/// of 2,000 pairs; the cache holds every `text_a`, every `text_b` is asked; a served hit is
/// correct only when it returns its own partner and the pair is labelled duplicate.
struct Pair: Decodable {
    var text_a: String
    var text_b: String
    var label: Int
}

/// One asked question of a sample: the guard's features for its nearest stored question.
struct Trial {
    var features: [Double]
    /// The asked question and the stored one it was compared with.
    var query: String
    var entry: String
    var similarity: Double
    /// The nearest stored question is its own partner and the pair is a duplicate.
    var correct: Bool
    /// The asked question is the stored one, character for character (an exact-cache hit).
    var identical: Bool { query == entry }
    var duplicate: Bool
}

/// What a served-hit policy gives on a set of trials.
struct Outcome {
    var hits = 0, correct = 0, duplicates = 0, nonDuplicates = 0, nonDuplicateHits = 0
    var precision: Double { hits == 0 ? 1 : Double(correct) / Double(hits) }
    var recall: Double { Double(correct) / Double(max(duplicates, 1)) }
    var nonDuplicateHitRate: Double { Double(nonDuplicateHits) / Double(max(nonDuplicates, 1)) }

    init(_ trials: [Trial], serve: (Trial) -> Bool) {
        for trial in trials {
            if trial.duplicate { duplicates += 1 } else { nonDuplicates += 1 }
            guard serve(trial) else { continue }
            hits += 1
            if trial.correct { correct += 1 }
            if !trial.duplicate { nonDuplicateHits += 1 }
        }
    }
}

/// A deterministic generator, so that samples are the same in every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Embeds `texts` with token vectors, 64 at a time.
func embedAll(_ texts: [String], embedder: LocalEmbedder) async throws -> (vectors: [[Float]], profiles: [QuestionProfile]) {
    var vectors: [[Float]] = []
    var profiles: [QuestionProfile] = []
    var start = 0
    while start < texts.count {
        let chunk = Array(texts[start..<min(start + 64, texts.count)])
        let batch = try await embedder.embed(chunk, keepingTokenVectors: true)
        vectors += batch.vectors
        for (text, tokens) in zip(chunk, batch.tokenVectors!) {
            profiles.append(QuestionProfile(text: text, tokenVectors: tokens))
        }
        start += chunk.count
        if start % 1024 == 0 { FileHandle.standardError.write("embedded \(start)/\(texts.count)\n".data(using: .utf8)!) }
    }
    return (vectors, profiles)
}

/// The trials of one sample: an index of the `text_a`s, every `text_b` asked.
func trials(
    pairs: [Pair], stored: (vectors: [[Float]], profiles: [QuestionProfile]),
    asked: (vectors: [[Float]], profiles: [QuestionProfile]), dimensions: Int
) -> [Trial] {
    let index = VectorIndex(dimensions: dimensions, capacity: pairs.count)
    for vector in stored.vectors { index.append(vector) }
    let n = pairs.count
    // Each stored question's nearest other stored question, as the cache keeps at insert time.
    let storedFlat = stored.vectors.flatMap { $0 }
    var all = [Float](repeating: 0, count: n * n)
    var scratch = [Float](repeating: 0, count: n * n)
    index.scores(ofBatch: storedFlat, queryCount: n, into: &all, scratch: &scratch)
    var ownNeighbour = [Float](repeating: 0, count: n)
    for i in 0..<n {
        var best: Float = -1
        for j in 0..<n where j != i { best = max(best, all[i * n + j]) }
        ownNeighbour[i] = best
    }
    let askedFlat = asked.vectors.flatMap { $0 }
    index.scores(ofBatch: askedFlat, queryCount: n, into: &all, scratch: &scratch)
    var result: [Trial] = []
    for q in 0..<n {
        let neighbours = all.withUnsafeBufferPointer { Neighbours(scores: UnsafeBufferPointer(rebasing: $0[q * n..<(q + 1) * n])) }
        let top = neighbours.rows[0]
        let features = SemanticGuard.features(
            neighbours: neighbours, entryNeighbour: ownNeighbour[top], query: asked.profiles[q],
            entry: stored.profiles[top], dimensions: dimensions
        )
        let duplicate = pairs[q].label == 1
        result.append(Trial(features: features, query: pairs[q].text_b, entry: pairs[top].text_a, similarity: Double(neighbours.similarities[0]), correct: duplicate && top == q, duplicate: duplicate))
    }
    return result
}
