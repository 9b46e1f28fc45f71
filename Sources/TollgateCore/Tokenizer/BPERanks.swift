/// The mergeable ranks of a tiktoken encoding: every token's bytes and its rank (= token id),
/// with an open-addressing hash table from bytes to rank that looks pieces up in place,
/// without allocating a key.
///
/// All token bytes live in one array (`arena`); `spans[rank]` locates a token in it. A table
/// slot holds the high 32 bits of the key's hash and the rank plus one (0 = empty), so that
/// most mismatches are rejected without touching the arena.
struct BPERanks: Sendable {
    /// Rank used for "no such token" in the merge loop, as tiktoken's `Rank::MAX`.
    @inline(__always)
    static var none: UInt32 { .max }

    private let arena: [UInt8]
    /// Per rank: the token's start in `arena` (high 32 bits) and length (low 32 bits);
    /// 0 for a rank no token has.
    private let spans: [UInt64]
    private let slots: [UInt64]
    private let mask: Int
    /// The rank of every two-byte string (``none`` for most), indexed by `first << 8 | second`:
    /// merging looks up every adjacent byte pair of a piece first.
    private let pairs: [UInt32]
    /// Number of tokens (ranks in use).
    let count: Int

    /// Builds the table over `arena`, where each token is `arena[start ..< start + length]`.
    /// Ranks must be distinct and below 2³¹, tokens non-empty and distinct.
    init(arena: [UInt8], tokens: [(start: Int, length: Int, rank: Int)]) throws(RankTableError) {
        let maxRank = tokens.reduce(-1) { max($0, $1.rank) }
        var spans = [UInt64](repeating: 0, count: maxRank + 1)
        for token in tokens {
            guard spans[token.rank] == 0 else { throw .duplicateRank(token.rank) }
            spans[token.rank] = UInt64(token.start) << 32 | UInt64(token.length)
        }
        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        try arena.withUnsafeBufferPointer { (bytes) throws(RankTableError) in
            for token in tokens {
                let key = UnsafeBufferPointer(rebasing: bytes[token.start..<(token.start + token.length)])
                let hash = Self.hash(key)
                var index = Int(truncatingIfNeeded: hash) & mask
                while slots[index] != 0 {
                    let other = Int(truncatingIfNeeded: slots[index] & 0xFFFF_FFFF) - 1
                    let span = spans[other]
                    let otherStart = Int(span >> 32)
                    let otherKey = UnsafeBufferPointer(rebasing: bytes[otherStart..<(otherStart + Int(span & 0xFFFF_FFFF))])
                    if otherKey.elementsEqual(key) { throw .duplicateToken(rank: token.rank, other: other) }
                    index = (index + 1) & mask
                }
                slots[index] = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(token.rank + 1)
            }
        }
        var pairs = [UInt32](repeating: Self.none, count: 1 << 16)
        for token in tokens where token.length == 2 {
            pairs[Int(arena[token.start]) << 8 | Int(arena[token.start + 1])] = UInt32(token.rank)
        }
        self.arena = arena
        self.spans = spans
        self.slots = slots
        self.mask = mask
        self.pairs = pairs
        self.count = tokens.count
    }

    /// One more than the highest rank.
    var rankBound: Int { self.spans.count }

    /// The rank of the token whose bytes are exactly `key`, or ``none``.
    @inline(__always)
    func rank(of key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        if key.count == 2 {
            return self.pairs.withUnsafeBufferPointer { $0[Int(key[0]) << 8 | Int(key[1])] }
        }
        if key.isEmpty { return Self.none }
        let hash = Self.hash(key)
        let tag = hash & 0xFFFF_FFFF_0000_0000
        var index = Int(truncatingIfNeeded: hash) & self.mask
        return self.slots.withUnsafeBufferPointer { slots in
            self.spans.withUnsafeBufferPointer { spans in
                self.arena.withUnsafeBufferPointer { arena in
                    while true {
                        let slot = slots[index]
                        if slot == 0 { return Self.none }
                        if slot & 0xFFFF_FFFF_0000_0000 == tag {
                            let rank = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                            let span = spans[rank]
                            if Int(span & 0xFFFF_FFFF) == key.count
                                && memoryEqual(arena.baseAddress! + Int(span >> 32), key.baseAddress!, key.count)
                            {
                                return UInt32(rank)
                            }
                        }
                        index = (index + 1) & self.mask
                    }
                }
            }
        }
    }

    /// The bytes of token `rank`, or nil when no token has that rank.
    func bytes(of rank: Int) -> ArraySlice<UInt8>? {
        guard rank >= 0, rank < self.spans.count, self.spans[rank] != 0 else { return nil }
        let start = Int(self.spans[rank] >> 32)
        return self.arena[start..<(start + Int(self.spans[rank] & 0xFFFF_FFFF))]
    }

    /// A fast 64-bit hash of short byte strings (8 bytes at a time, multiply-xorshift mixing).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(key.count &+ 1)
        guard let base = key.baseAddress else { return mix(h) }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= key.count {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < key.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < key.count {
                tail |= UInt64(base[offset]) << shift
                shift += 8
                offset += 1
            }
            h = mix(h ^ tail)
        }
        return h
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var x = value &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 31
        x = x &* 0x94D0_49BB_1331_11EB
        x ^= x >> 29
        return x
    }
}

/// Why ``BPERanks`` rejected its entries.
enum RankTableError: Error {
    case duplicateRank(Int)
    case duplicateToken(rank: Int, other: Int)
}

@inline(__always)
private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    let ra = UnsafeRawPointer(a)
    let rb = UnsafeRawPointer(b)
    while i + 8 <= count {
        if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
