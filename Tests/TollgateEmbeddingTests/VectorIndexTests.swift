import Testing
import TollgateEmbedding

@Suite struct VectorIndexTests {
    /// The batched product is computed as rows x queries and transposed: every query's scores
    /// must still be the single-query ones, in row order, for shapes that are not square.
    @Test func batchedScoresEqualSingleScores() {
        let dimensions = 24, rows = 37, queryCount = 5
        var generator = SystemRandomNumberGenerator()
        func vector() -> [Float] { (0..<dimensions).map { _ in Float.random(in: -1...1, using: &generator) } }
        let index = VectorIndex(dimensions: dimensions, capacity: 4)
        for _ in 0..<rows { index.append(vector()) }
        let queries = (0..<queryCount).flatMap { _ in vector() }
        var batched = [Float](repeating: .nan, count: rows * queryCount)
        var scratch = [Float](repeating: .nan, count: rows * queryCount)
        index.scores(ofBatch: queries, queryCount: queryCount, into: &batched, scratch: &scratch)
        for q in 0..<queryCount {
            var single = [Float](repeating: .nan, count: rows)
            Array(queries[q * dimensions..<(q + 1) * dimensions]).withUnsafeBufferPointer { index.scores(of: $0.baseAddress!, into: &single) }
            for row in 0..<rows { #expect(abs(batched[q * rows + row] - single[row]) < 1e-4, "query \(q) row \(row)") }
        }
    }
}

@Suite struct NeighboursTests {
    @Test func findsTheThreeBestAndCountsTheCloseOnes() {
        let scores: [Float] = [0.1, 0.91, 0.5, 0.93, 0.2, 0.95, 0.9, 0.3]
        let neighbours = scores.withUnsafeBufferPointer { Neighbours(scores: $0) }
        #expect(neighbours.rows == [5, 3, 1])
        #expect(neighbours.similarities == [0.95, 0.93, 0.91])
        #expect(neighbours.closeCount == 4)  // 0.95, 0.93, 0.91 and 0.9 are within 0.05 of the best
    }

    @Test func fewerThanThreeRowsAndNaNScoresAreLeftOut() {
        let two = [Float(0.2), 0.7].withUnsafeBufferPointer { Neighbours(scores: $0) }
        #expect(two.rows == [1, 0])
        #expect(two.closeCount == 1)
        let none = [Float.nan].withUnsafeBufferPointer { Neighbours(scores: $0) }
        #expect(none.rows.isEmpty)
        #expect(none.closeCount == 0)
        let empty = [Float]().withUnsafeBufferPointer { Neighbours(scores: $0) }
        #expect(empty.rows.isEmpty)
    }
}
