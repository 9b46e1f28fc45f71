import Synchronization

/// An in-process cache bounded in bytes, least recently used out first, each entry with its
/// own expiry. Nodes live in one array linked by index (no allocation per hit; a slot is
/// reused after an eviction); one lock around O(1) work per call, no I/O.
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Node {
        var key: Key
        var value: Value
        var bytes: Int
        var expires: ContinuousClock.Instant
        var newer: Int
        var older: Int
    }

    struct State {
        var nodes: [Node?] = []
        var index: [Key: Int] = [:]
        var free: [Int] = []
        /// Most and least recently used node, -1 when empty.
        var newest = -1
        var oldest = -1
        var bytes = 0
        var evictions = 0

        mutating func unlink(_ slot: Int) {
            let node = self.nodes[slot]!
            if node.newer >= 0 { self.nodes[node.newer]!.older = node.older } else { self.newest = node.older }
            if node.older >= 0 { self.nodes[node.older]!.newer = node.newer } else { self.oldest = node.newer }
        }

        mutating func pushNewest(_ slot: Int) {
            self.nodes[slot]!.newer = -1
            self.nodes[slot]!.older = self.newest
            if self.newest >= 0 { self.nodes[self.newest]!.newer = slot }
            self.newest = slot
            if self.oldest < 0 { self.oldest = slot }
        }

        mutating func remove(_ slot: Int) {
            self.unlink(slot)
            let node = self.nodes[slot]!
            self.index[node.key] = nil
            self.bytes -= node.bytes
            self.nodes[slot] = nil
            self.free.append(slot)
        }
    }

    public let maxBytes: Int
    private let state = Mutex(State())
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(maxBytes: Int, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.maxBytes = maxBytes
        self.now = now
    }

    /// The live value for `key`, now the most recently used; an expired one is dropped.
    public func value(for key: Key) -> Value? {
        let now = self.now()
        return self.state.withLock { state in
            guard let slot = state.index[key] else { return nil }
            guard state.nodes[slot]!.expires > now else {
                state.remove(slot)
                return nil
            }
            state.unlink(slot)
            state.pushNewest(slot)
            return state.nodes[slot]!.value
        }
    }

    /// Stores `value` for `ttl`, evicting the least recently used until it fits. A value
    /// larger than the whole cache is not stored.
    public func set(_ value: Value, for key: Key, bytes: Int, ttl: Duration) {
        guard bytes <= self.maxBytes, ttl > .zero else { return }
        let expires = self.now() + ttl
        self.state.withLock { state in
            if let slot = state.index[key] { state.remove(slot) }
            while state.bytes + bytes > self.maxBytes, state.oldest >= 0 {
                state.remove(state.oldest)
                state.evictions += 1
            }
            let node = Node(key: key, value: value, bytes: bytes, expires: expires, newer: -1, older: -1)
            let slot: Int
            if let reused = state.free.popLast() {
                slot = reused
                state.nodes[slot] = node
            } else {
                slot = state.nodes.count
                state.nodes.append(node)
            }
            state.index[key] = slot
            state.bytes += bytes
            state.pushNewest(slot)
        }
    }

    public func remove(_ key: Key) {
        self.state.withLock { state in
            if let slot = state.index[key] { state.remove(slot) }
        }
    }

    /// Entries, bytes held and evictions so far (for metrics).
    public var statistics: (entries: Int, bytes: Int, evictions: Int) {
        self.state.withLock { ($0.index.count, $0.bytes, $0.evictions) }
    }
}
