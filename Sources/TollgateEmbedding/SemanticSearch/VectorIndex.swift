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
        OpenBLASRuntime.prepare()
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
    ///
    /// The product is taken as `rows x queries`, the matrix as sgemm's left operand (OpenBLAS
    /// 0.3.21 runs it 10-25% faster that way for a few queries than `queries x rows`), into
    /// `scratch` (`count * queryCount` floats), then transposed into `scores`.
    public func scores(
        ofBatch queries: UnsafePointer<Float>, queryCount: Int, into scores: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        guard count > 0, queryCount > 0 else { return }
        if queryCount == 1 { return self.scores(of: queries, into: scores) }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(queryCount), Int32(dimensions),
            1, storage, Int32(dimensions), queries, Int32(dimensions), 0, scratch, Int32(queryCount)
        )
        cblas_somatcopy(CblasRowMajor, CblasTrans, Int32(count), Int32(queryCount), 1, scratch, Int32(queryCount), scores, Int32(count))
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

    /// Scans `scores` twice: the three best in one pass that keeps them in registers (nearly
    /// every score fails the first comparison), then a count the compiler vectorises.
    public init(scores: UnsafeBufferPointer<Float>) {
        var score0 = -Float.infinity, score1 = -Float.infinity, score2 = -Float.infinity
        var row0 = -1, row1 = -1, row2 = -1
        for (row, score) in scores.enumerated() where score > score2 {
            if score > score0 {
                (score2, row2) = (score1, row1)
                (score1, row1) = (score0, row0)
                (score0, row0) = (score, row)
            } else if score > score1 {
                (score2, row2) = (score1, row1)
                (score1, row1) = (score, row)
            } else {
                (score2, row2) = (score, row)
            }
        }
        // Rows never set (fewer than three scores, or NaN ones) are left out.
        let found = [row0, row1, row2].prefix { $0 >= 0 }.count
        rows = Array([row0, row1, row2].prefix(found))
        similarities = Array([score0, score1, score2].prefix(found))
        closeCount = 0
        guard found > 0 else { return }
        let floor = score0 - Self.closeMargin
        var close = 0
        for score in scores { close &+= score >= floor ? 1 : 0 }
        closeCount = close
    }
}
