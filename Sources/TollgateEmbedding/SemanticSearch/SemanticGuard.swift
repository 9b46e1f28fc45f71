import COpenBLAS
import Foundation

/// The semantic cache's second stage: given a question and its nearest stored question, the
/// probability that the stored answer answers it, from a logistic model over cheap signals.
///
/// Cosine alone is a poor judge: near-paraphrases that differ in one number, a negation or the
/// thing asked about score as high as true paraphrases. The features (``Feature``) look at the
/// neighbourhood (margins to the next neighbours, how crowded it is, how close the candidate's
/// own nearest neighbour is), at token-level alignment of the two questions (from the same
/// forward pass), and at the words that usually carry the difference. Coefficients are fitted
/// by `bench/semantic` on Quora Question Pairs (see bench/RESULTS.md) and can be overridden in
/// `tollgate.yaml`.
public struct SemanticGuard: Sendable, Equatable {
    /// The inputs of the logistic model, in coefficient order.
    public enum Feature: String, CaseIterable, Sendable {
        case similarity, marginSecond = "margin_second", marginThird = "margin_third", crowding
        case ownNeighbour = "own_neighbour"
        case alignQueryMin = "align_query_min", alignQueryMean = "align_query_mean"
        case alignEntryMin = "align_entry_min", alignEntryMean = "align_entry_mean"
        case numbersDiffer = "numbers_differ", negationDiffers = "negation_differs"
        case queryWordsMissing = "query_words_missing", entryWordsMissing = "entry_words_missing"
        case lengthDifference = "length_difference", wordOrder = "word_order"
    }

    /// Intercept and one weight per ``Feature``, in order.
    public var intercept: Double
    public var weights: [Double]
    /// Serve the candidate when the model's probability is at least this.
    public var threshold: Double
    /// Candidates below this cosine are never considered (no feature work is spent on them).
    public var minimumSimilarity: Float

    public init(intercept: Double, weights: [Double], threshold: Double, minimumSimilarity: Float) {
        precondition(weights.count == Feature.allCases.count)
        self.intercept = intercept
        self.weights = weights
        self.threshold = threshold
        self.minimumSimilarity = minimumSimilarity
    }

    /// Fitted by `bench/semantic/run.sh` (logistic regression, L2 1.0, on 4 samples of 2,000
    /// Quora Question Pairs; bench/RESULTS.md, "Semantic cache"), in ``Feature`` order.
    static let fittedIntercept = -8.9003
    static let fittedWeights: [Double] = [
            15.8446,
            0.6088,
            0.1719,
            -1.0408,
            0.0874,
            0.3216,
            -3.1125,
            1.0611,
            -3.8489,
            -0.3508,
            -0.3543,
            0.2323,
            0.3841,
            0.3218,
            -0.4144,
        ]

    /// The shipped default: the threshold at which the fit reached recall 0.12 on its own
    /// samples (precision first: a wrong answer costs more than a miss).
    public static let strict = SemanticGuard(
        intercept: fittedIntercept, weights: fittedWeights, threshold: 0.8150, minimumSimilarity: 0.8
    )

    /// More hits and more wrong ones: recall 0.28 on the fit's samples.
    public static let balanced = SemanticGuard(
        intercept: fittedIntercept, weights: fittedWeights, threshold: 0.7325, minimumSimilarity: 0.8
    )

    /// The probability that `entry`'s answer answers `query`.
    public func probability(_ features: [Double]) -> Double {
        var z = intercept
        for (weight, value) in zip(weights, features) { z += weight * value }
        return 1 / (1 + exp(-z))
    }

    /// The features of serving stored question `entry` (nearest other stored question at cosine
    /// `entryNeighbour`) for `query`, whose scan found `neighbours`.
    public static func features(
        neighbours: Neighbours, entryNeighbour: Float, query: QuestionProfile, entry: QuestionProfile, dimensions: Int
    ) -> [Double] {
        let s = neighbours.similarities
        let top = Double(s.first ?? 0)
        let second = Double(s.count > 1 ? s[1] : 0)
        let third = Double(s.count > 2 ? s[2] : 0)
        let alignment = TokenAlignment(query.tokenVectors, entry.tokenVectors, dimensions: dimensions)
        let queryTokens = query.tokenVectors.count / dimensions
        let entryTokens = entry.tokenVectors.count / dimensions
        return [
            top,
            top - second,
            top - third,
            log(Double(max(neighbours.closeCount, 1))),
            top - Double(max(entryNeighbour, 0)),
            alignment.queryMin,
            alignment.queryMean,
            alignment.entryMin,
            alignment.entryMean,
            query.numbers == entry.numbers ? 0 : 1,
            query.negated == entry.negated ? 0 : 1,
            missingFraction(query.words, in: entry.words),
            missingFraction(entry.words, in: query.words),
            Double(abs(queryTokens - entryTokens)) / Double(max(queryTokens, entryTokens, 1)),
            inversions(query.wordSequence, entry.wordSequence),
        ]
    }

    /// Share of `words` (sorted) absent from `other` (sorted).
    static func missingFraction(_ words: [UInt64], in other: [UInt64]) -> Double {
        words.isEmpty ? 0 : Double(missingCount(words, in: other)) / Double(words.count)
    }

    /// Of the pairs of words both questions use, the share whose order differs (Kendall's
    /// distance): `convert A to B` against `convert B to A` is 1.
    static func inversions(_ query: [UInt64], _ entry: [UInt64]) -> Double {
        let shared = query.compactMap { entry.firstIndex(of: $0) }
        guard shared.count > 1 else { return 0 }
        var inverted = 0
        for i in 0..<shared.count { for j in i + 1..<shared.count where shared[i] > shared[j] { inverted += 1 } }
        return Double(inverted) / Double(shared.count * (shared.count - 1) / 2)
    }

    /// How many of `words` (sorted) are absent from `other` (sorted).
    static func missingCount(_ words: [UInt64], in other: [UInt64]) -> Int {
        var missing = 0
        var j = 0
        for word in words {
            while j < other.count, other[j] < word { j += 1 }
            if j == other.count || other[j] != word { missing += 1 }
        }
        return missing
    }
}

/// For each token of one question, its best cosine with any token of the other (one
/// `cblas_sgemm`); the minimum and mean of those, both ways.
struct TokenAlignment {
    var queryMin = 0.0, queryMean = 0.0, entryMin = 0.0, entryMean = 0.0

    init(_ query: [Float16], _ entry: [Float16], dimensions: Int) {
        let n = query.count / dimensions
        let m = entry.count / dimensions
        guard n > 0, m > 0 else { return }
        OpenBLASRuntime.prepare()
        let a = query.map(Float.init)
        let b = entry.map(Float.init)
        var sims = [Float](repeating: 0, count: n * m)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(m), Int32(dimensions),
            1, a, Int32(dimensions), b, Int32(dimensions), 0, &sims, Int32(m)
        )
        var rowBest = [Float](repeating: -1, count: n)
        var columnBest = [Float](repeating: -1, count: m)
        for i in 0..<n {
            for j in 0..<m {
                let value = sims[i * m + j]
                if value > rowBest[i] { rowBest[i] = value }
                if value > columnBest[j] { columnBest[j] = value }
            }
        }
        queryMin = Double(rowBest.min()!)
        queryMean = Double(rowBest.reduce(0, +)) / Double(n)
        entryMin = Double(columnBest.min()!)
        entryMean = Double(columnBest.reduce(0, +)) / Double(m)
    }
}
