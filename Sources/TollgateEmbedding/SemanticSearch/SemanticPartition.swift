/// The entries of one semantic-cache partition (one tenant scope, one served model, one
/// conversation context): their sentence vectors in a ``VectorIndex`` and, row for row, what
/// the guard and the cache need of each. Not thread-safe: ``SemanticStore``'s thread owns it.
final class SemanticPartition {
    struct Entry {
        var profile: QuestionProfile
        /// Cosine of this entry's nearest other entry in the partition, kept up to date as entries
        /// arrive (a removal can leave it higher than the nearest remaining one: the guard then
        /// errs towards a miss).
        var ownNeighbour: Float
        var payload: [UInt8]
        /// Seconds since 1970 after which the entry is not served.
        var expiry: Double
        var lastUsed: UInt64
        var byteCount: Int
    }

    let name: String
    let index: VectorIndex
    private(set) var entries: [Entry] = []
    private(set) var byteCount = 0

    init(name: String, dimensions: Int) {
        self.name = name
        self.index = VectorIndex(dimensions: dimensions)
    }

    var count: Int { entries.count }

    /// A question this close to a stored one is the same question: its answer replaces the old.
    static let sameQuestion: Float = 0.9995

    /// Stores an entry; `scores` must hold `vector`'s cosines with every current row. Returns
    /// the bytes added (negative when a replaced answer was larger).
    func insert(
        vector: [Float], profile: QuestionProfile, payload: [UInt8], expiry: Double, tick: UInt64, scores: UnsafeBufferPointer<Float>
    ) -> Int {
        var nearest: Float = -1
        var nearestRow = -1
        for (row, score) in scores.enumerated() where score > nearest {
            nearest = score
            nearestRow = row
        }
        let size = Self.byteCount(vector: vector.count, profile: profile, payload: payload)
        if nearest >= Self.sameQuestion {
            let old = entries[nearestRow].byteCount
            entries[nearestRow].payload = payload
            entries[nearestRow].profile = profile
            entries[nearestRow].expiry = expiry
            entries[nearestRow].lastUsed = tick
            entries[nearestRow].byteCount = size
            byteCount += size - old
            return size - old
        }
        for (row, score) in scores.enumerated() where score > entries[row].ownNeighbour {
            entries[row].ownNeighbour = score
        }
        index.append(vector)
        entries.append(Entry(profile: profile, ownNeighbour: nearest, payload: payload, expiry: expiry, lastUsed: tick, byteCount: size))
        byteCount += size
        return size
    }

    /// Removes `row` (the last row moves into its place, as in the index); returns its bytes.
    @discardableResult
    func remove(row: Int) -> Int {
        let size = entries[row].byteCount
        index.remove(row: row)
        entries.swapAt(row, entries.count - 1)
        entries.removeLast()
        byteCount -= size
        return size
    }

    func touch(row: Int, tick: UInt64) { entries[row].lastUsed = tick }

    /// Removes the entries expired at `now`; returns how many and their bytes.
    func removeExpired(now: Double) -> (count: Int, bytes: Int) {
        remove { $0.expiry <= now }
    }

    /// Removes the entries `shouldRemove` picks; returns how many and their bytes.
    func remove(where shouldRemove: (Entry) -> Bool) -> (count: Int, bytes: Int) {
        var removed = (count: 0, bytes: 0)
        var row = 0
        while row < entries.count {
            if shouldRemove(entries[row]) {
                removed.bytes += remove(row: row)
                removed.count += 1
            } else {
                row += 1
            }
        }
        return removed
    }

    /// The least recently used row.
    var leastRecentlyUsed: Int? {
        entries.indices.min { entries[$0].lastUsed < entries[$1].lastUsed }
    }

    /// What an entry costs in memory: its matrix row, its profile and its answer.
    static func byteCount(vector: Int, profile: QuestionProfile, payload: [UInt8]) -> Int {
        vector * MemoryLayout<Float>.stride + profile.byteCount + payload.count + 64
    }
}
