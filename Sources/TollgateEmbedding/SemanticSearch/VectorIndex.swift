import COpenBLAS

/// One partition's sentence vectors as a single contiguous row-major `Float` matrix (rows
/// L2-normalised), so that comparing a query with every entry is one `cblas_sgemv`, and
/// comparing several queries that arrived together is one `cblas_sgemm`.
///
/// Not thread-safe: its owner serialises access. Removing a row moves the last row into its
/// place (the matrix stays dense); the caller updates whatever maps rows to entries.
public final class VectorIndex {
    public let dimensions: Int
    public private(set) var count = 0
    private var capacity = 0
    private var storage: UnsafeMutablePointer<Float>

    public init(dimensions: Int, capacity: Int = 16) {
        self.dimensions = dimensions
        self.capacity = max(capacity, 1)
        self.storage = .allocate(capacity: self.capacity * dimensions)
    }

    deinit { storage.deallocate() }

    /// Bytes the matrix holds (allocated rows, used or not).
    public var byteCount: Int { capacity * dimensions * MemoryLayout<Float>.stride }

    /// Appends `vector` (already normalised, `dimensions` long) and returns its row.
    @discardableResult
    public func append(_ vector: [Float]) -> Int {
        precondition(vector.count == dimensions)
        if count == capacity { grow(to: capacity * 2) }
        (storage + count * dimensions).update(from: vector, count: dimensions)
        count += 1
        return count - 1
    }

    /// Removes `row` by moving the last row into it; returns the row that moved (the old last
    /// row's index), or `nil` when `row` was the last.
    public func remove(row: Int) -> Int? {
        precondition(row >= 0 && row < count)
        count -= 1
        var moved: Int?
        if row != count {
            (storage + row * dimensions).update(from: storage + count * dimensions, count: dimensions)
            moved = count
        }
        if count * 4 < capacity, capacity > 64 { grow(to: capacity / 2) }
        return moved
    }

    /// The vector at `row`.
    public func vector(at row: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: storage + row * dimensions, count: dimensions))
    }

    /// `scores[i]` = cosine of `query` with row `i`, for every row (`cblas_sgemv`).
    public func scores(of query: UnsafePointer<Float>, into scores: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        cblas_sgemv(
            CblasRowMajor, CblasNoTrans, Int32(count), Int32(dimensions), 1, storage, Int32(dimensions),
            query, 1, 0, scores, 1
        )
    }

    /// `scores[q * count + i]` = cosine of query `q` with row `i`, for `queryCount` queries
    /// packed row-major in `queries` (`cblas_sgemm`: the matrix is read once for all of them).
    public func scores(ofBatch queries: UnsafePointer<Float>, queryCount: Int, into scores: UnsafeMutablePointer<Float>) {
        guard count > 0, queryCount > 0 else { return }
        if queryCount == 1 { return self.scores(of: queries, into: scores) }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queryCount), Int32(count), Int32(dimensions),
            1, queries, Int32(dimensions), storage, Int32(dimensions), 0, scores, Int32(count)
        )
    }

    private func grow(to newCapacity: Int) {
        let larger = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * dimensions)
        larger.update(from: storage, count: count * dimensions)
        storage.deallocate()
        storage = larger
        capacity = newCapacity
    }
}

/// The nearest rows of one query: what the guard needs from a scan of a partition's scores.
public struct Neighbours: Sendable, Equatable {
    /// Up to three best rows and their cosines, best first.
    public var rows: [Int]
    public var similarities: [Float]
    /// Rows within ``closeMargin`` of the best cosine (the best included): how crowded the
    /// neighbourhood of the answer is.
    public var closeCount: Int

    public static let closeMargin: Float = 0.05

    /// Scans `scores` once.
    public init(scores: UnsafeBufferPointer<Float>) {
        var best: [(row: Int, score: Float)] = []
        best.reserveCapacity(4)
        for (row, score) in scores.enumerated() where best.count < 3 || score > best[best.count - 1].score {
            let position = best.firstIndex { score > $0.score } ?? best.count
            best.insert((row, score), at: position)
            if best.count > 3 { best.removeLast() }
        }
        rows = best.map(\.row)
        similarities = best.map(\.score)
        closeCount = 0
        if let top = similarities.first {
            let floor = top - Self.closeMargin
            for score in scores where score >= floor { closeCount += 1 }
        }
    }
}
