/// One part of a piece during merging: where it starts and the rank of it merged with the
/// next part (``BPERanks/none`` when that is no token).
struct BPEPart {
    var start: Int32
    var rank: UInt32
}

extension BPERanks {
    /// tiktoken's `byte_pair_merge`: starts from single bytes and repeatedly merges the
    /// adjacent pair whose concatenation has the lowest rank (the leftmost on a tie) until no
    /// pair is a token. Leaves the part boundaries in `parts`, with the end of the piece last.
    /// `piece` has at least two bytes.
    func bytePairMerge(_ piece: UnsafeBufferPointer<UInt8>, parts: inout [BPEPart]) {
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
}
