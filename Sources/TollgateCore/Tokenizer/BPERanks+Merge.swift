/// One part of a piece during merging: where it starts and the rank of it merged with the
/// next part (``BPERanks/none`` when that is no token).
struct BPEPart {
    var start: Int32
    var rank: UInt32
}

/// Buffers byte-pair merging reuses from one piece to the next within an encoding call.
struct BPEScratch {
    /// After a merge: the parts' starts, with the end of the piece last.
    var parts: [BPEPart] = []
    // The linked list and heap of the long-piece merge.
    fileprivate var next: [Int32] = []
    fileprivate var previous: [Int32] = []
    fileprivate var ranks: [UInt32] = []
    fileprivate var heap: [UInt64] = []
}

extension BPERanks {
    /// Pieces at least this long merge with a heap: the rescanning merge is quadratic.
    static let heapMergeThreshold = 48

    /// tiktoken's `byte_pair_merge`: starts from single bytes and repeatedly merges the
    /// adjacent pair whose concatenation has the lowest rank (the leftmost on a tie) until no
    /// pair is a token. Leaves the part boundaries in `scratch.parts`, with the end of the piece
    /// last. `piece` has at least two bytes.
    func bytePairMerge(_ piece: UnsafeBufferPointer<UInt8>, scratch: inout BPEScratch) {
        if piece.count >= Self.heapMergeThreshold {
            self.heapMerge(piece, scratch: &scratch)
        } else {
            self.scanMerge(piece, parts: &scratch.parts)
        }
    }

    /// The merge as tiktoken writes it: a vector of parts, rescanned for the lowest rank after
    /// every merge (fast for the short pieces nearly all text splits into).
    private func scanMerge(_ piece: UnsafeBufferPointer<UInt8>, parts: inout [BPEPart]) {
        parts.removeAll(keepingCapacity: true)
        var minRank = Self.none
        var minIndex = 0
        for i in 0..<(piece.count - 1) {
            let rank = self.rank(of: UnsafeBufferPointer(rebasing: piece[i..<(i + 2)]))
            if rank < minRank {
                minRank = rank
                minIndex = i
            }
            parts.append(BPEPart(start: Int32(i), rank: rank))
        }
        parts.append(BPEPart(start: Int32(piece.count - 1), rank: Self.none))
        parts.append(BPEPart(start: Int32(piece.count), rank: Self.none))

        let remaining = parts.withUnsafeMutableBufferPointer { buffer -> Int in
            var count = buffer.count
            // The rank of parts i, i+1 and i+2 joined (part i+1 is about to be removed).
            func joinedRank(_ i: Int) -> UInt32 {
                guard i + 3 < count else { return Self.none }
                return self.rank(of: UnsafeBufferPointer(rebasing: piece[Int(buffer[i].start)..<Int(buffer[i + 3].start)]))
            }
            while minRank != Self.none {
                let i = minIndex
                if i > 0 { buffer[i - 1].rank = joinedRank(i - 1) }
                buffer[i].rank = joinedRank(i)
                // Remove part i + 1.
                var k = i + 1
                while k < count - 1 {
                    buffer[k] = buffer[k + 1]
                    k += 1
                }
                count -= 1

                minRank = Self.none
                for k in 0..<(count - 1) where buffer[k].rank < minRank {
                    minRank = buffer[k].rank
                    minIndex = k
                }
            }
            return count
        }
        parts.removeLast(parts.count - remaining)
    }

    /// The same merges in the same order, for long pieces: parts in a linked list (a part is
    /// named by its start), candidate merges in a min-heap ordered by (rank, start), so that
    /// the lowest rank and then the leftmost part comes first, as in the scan. Entries whose
    /// part has since grown or gone are skipped: a part's rank only changes when its extent
    /// does, and distinct extents of one part have distinct bytes, hence distinct ranks.
    private func heapMerge(_ piece: UnsafeBufferPointer<UInt8>, scratch: inout BPEScratch) {
        let n = piece.count
        scratch.next.removeAll(keepingCapacity: true)
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.ranks.removeAll(keepingCapacity: true)
        scratch.heap.removeAll(keepingCapacity: true)
        for i in 0..<n {
            scratch.next.append(Int32(i + 1))
            scratch.previous.append(Int32(i - 1))
            let rank = i + 1 < n ? self.rank(of: UnsafeBufferPointer(rebasing: piece[i..<(i + 2)])) : Self.none
            scratch.ranks.append(rank)
            if rank != Self.none { scratch.heap.append(UInt64(rank) << 32 | UInt64(i)) }
        }
        var heap = MinHeap(storage: [])
        swap(&heap.storage, &scratch.heap)  // borrow the buffer without copying it
        heap.heapify()
        scratch.next.withUnsafeMutableBufferPointer { next in
            scratch.previous.withUnsafeMutableBufferPointer { previous in
                scratch.ranks.withUnsafeMutableBufferPointer { ranks in
                    // The rank of part i joined with the part after it (which ends where the
                    // one after that starts).
                    func pairRank(_ i: Int) -> UInt32 {
                        let following = Int(next[i])
                        guard following < n else { return Self.none }
                        return self.rank(of: UnsafeBufferPointer(rebasing: piece[i..<Int(next[following])]))
                    }
                    while let entry = heap.popMin() {
                        let i = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF)
                        let rank = UInt32(truncatingIfNeeded: entry >> 32)
                        guard ranks[i] == rank else { continue }  // stale
                        // Merge part i with the next one.
                        let removed = Int(next[i])
                        next[i] = next[removed]
                        if Int(next[i]) < n { previous[Int(next[i])] = Int32(i) }
                        ranks[removed] = Self.none
                        ranks[i] = pairRank(i)
                        if ranks[i] != Self.none { heap.insert(UInt64(ranks[i]) << 32 | UInt64(i)) }
                        let before = Int(previous[i])
                        if before >= 0 {
                            ranks[before] = pairRank(before)
                            if ranks[before] != Self.none { heap.insert(UInt64(ranks[before]) << 32 | UInt64(before)) }
                        }
                    }
                }
            }
        }
        swap(&heap.storage, &scratch.heap)
        scratch.parts.removeAll(keepingCapacity: true)
        var i = 0
        while i < n {
            scratch.parts.append(BPEPart(start: Int32(i), rank: Self.none))
            i = Int(scratch.next[i])
        }
        scratch.parts.append(BPEPart(start: Int32(n), rank: Self.none))
    }
}

/// A binary min-heap of packed (rank, start) keys.
private struct MinHeap {
    var storage: [UInt64]

    mutating func heapify() {
        guard self.storage.count > 1 else { return }
        for index in stride(from: self.storage.count / 2 - 1, through: 0, by: -1) { self.siftDown(index) }
    }

    mutating func insert(_ key: UInt64) {
        self.storage.append(key)
        var child = self.storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.storage[child] < self.storage[parent] else { break }
            self.storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> UInt64? {
        guard let last = self.storage.popLast() else { return nil }
        guard !self.storage.isEmpty else { return last }
        let minimum = self.storage[0]
        self.storage[0] = last
        self.siftDown(0)
        return minimum
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = self.storage.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var smallest = left
            if left + 1 < count && self.storage[left + 1] < self.storage[left] { smallest = left + 1 }
            guard self.storage[smallest] < self.storage[parent] else { return }
            self.storage.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
