import Foundation

/// The semantic cache's entries, searched on a thread of their own.
///
/// Partitions (``SemanticPartition``) are only touched by that thread, so no lock is held
/// across a search. Callers enqueue searches and inserts; the thread takes everything waiting
/// at once, so searches of one partition that arrived together are answered by one
/// `cblas_sgemm` instead of one `cblas_sgemv` each (micro-batching). When ``maxWaiting``
/// searches already wait, a search is a miss at once rather than a longer queue.
///
/// Capacity: entries per partition, and entries and bytes overall; the least recently used go
/// first. Entries expire at their own time (seconds since 1970, so a snapshot keeps them).
public final class SemanticStore: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `stopping` and `statistics` are only touched with
    // `condition` locked; `partitions`, `tick` and the buffers only by the store's thread.

    public struct Limits: Sendable, Equatable {
        public var maxEntries: Int
        public var maxBytes: Int
        public var maxEntriesPerPartition: Int

        public init(maxEntries: Int = 50_000, maxBytes: Int = 128 << 20, maxEntriesPerPartition: Int = 10_000) {
            self.maxEntries = maxEntries
            self.maxBytes = maxBytes
            self.maxEntriesPerPartition = maxEntriesPerPartition
        }
    }

    /// A served candidate: the stored payload and how the guard judged it.
    public struct Hit: Sendable {
        public var payload: [UInt8]
        public var similarity: Float
        public var probability: Double
    }

    public struct Statistics: Sendable, Equatable {
        public var entries = 0
        public var bytes = 0
        public var partitions = 0
        public var evictions = 0
        /// Searches answered by one `cblas_sgemm` with others, and in all.
        public var batchedSearches = 0
        public var searches = 0
        /// Inserts and removals so far: a snapshot is due when it moved.
        public var changes = 0
    }

    private enum Operation {
        case search(partition: String, vector: [Float], profile: QuestionProfile, guard: SemanticGuard, reply: CheckedContinuation<Hit?, Never>)
        case insert(partition: String, vector: [Float], profile: QuestionProfile, payload: [UInt8], expiry: Double)
        case snapshot(path: String, reply: CheckedContinuation<Result<Int, any Error>, Never>)
        /// Tests: the thread reports it got here, then waits until the semaphore is signalled.
        case hold(entered: CheckedContinuation<Void, Never>, release: DispatchSemaphore)
    }

    public let dimensions: Int
    public let limits: Limits
    /// Searches beyond this many waiting are misses.
    public let maxWaiting: Int
    private let now: @Sendable () -> Double

    private let condition = NSCondition()
    private var queue: [Operation] = []
    private var waitingSearches = 0
    private var stopping = false
    private var published = Statistics()

    private var partitions: [String: SemanticPartition] = [:]
    private var tick: UInt64 = 0
    private var totalEntries = 0
    private var totalBytes = 0
    private var evictions = 0
    private var batchedSearches = 0
    private var searches = 0
    private var changes = 0
    private var scores: [Float] = []
    private var queries: [Float] = []
    /// The batched product before its transpose (``VectorIndex/scores(ofBatch:queryCount:into:scratch:)``).
    private var batchScratch: [Float] = []

    /// `now`: seconds since 1970 (injected by tests).
    public init(
        dimensions: Int, limits: Limits = Limits(), maxWaiting: Int = 256,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }, name: String = "tollgate-semantic"
    ) {
        self.dimensions = dimensions
        self.limits = limits
        self.maxWaiting = maxWaiting
        self.now = now
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    /// The stored entry of `partition` that the guard lets answer the question (`vector`,
    /// `profile`), or nil: no candidate, the guard said no, or the store is saturated.
    public func search(partition: String, vector: [Float], profile: QuestionProfile, guard guardModel: SemanticGuard) async -> Hit? {
        guard vector.count == dimensions else { return nil }
        return await withCheckedContinuation { reply in
            condition.lock()
            guard !stopping, waitingSearches < maxWaiting else {
                condition.unlock()
                reply.resume(returning: nil)
                return
            }
            waitingSearches += 1
            queue.append(.search(partition: partition, vector: vector, profile: profile, guard: guardModel, reply: reply))
            condition.signal()
            condition.unlock()
        }
    }

    /// Stores an answer for the question (`vector`, `profile`) until `expiry` (seconds since
    /// 1970); a stored question that is the same (cosine >= 0.9995) gets the new answer.
    public func insert(partition: String, vector: [Float], profile: QuestionProfile, payload: [UInt8], expiry: Double) {
        enqueue(.insert(partition: partition, vector: vector, profile: profile, payload: payload, expiry: expiry))
    }

    /// Writes every live entry to `path` (atomically: a temporary file renamed); returns how
    /// many were written.
    public func snapshot(to path: String) async throws -> Int {
        let result = await withCheckedContinuation { reply in enqueue(.snapshot(path: path, reply: reply)) }
        return try result.get()
    }

    /// Loads the entries of a snapshot written by ``snapshot(to:)``, skipping expired ones
    /// and ones of another dimension; returns how many were loaded. A missing file loads none.
    public func load(from path: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let records = try SemanticSnapshot.read(path: path, dimensions: dimensions)
        let now = self.now()
        var loaded = 0
        for record in records where record.expiry > now {
            insert(partition: record.partition, vector: record.vector, profile: record.profile, payload: record.payload, expiry: record.expiry)
            loaded += 1
        }
        return loaded
    }

    /// Tests: returns once the thread has stopped after what was queued; it goes on when the
    /// returned function is called, and takes what was queued meanwhile together.
    func hold() async -> @Sendable () -> Void {
        let release = DispatchSemaphore(value: 0)
        await withCheckedContinuation { entered in enqueue(.hold(entered: entered, release: release)) }
        return { release.signal() }
    }

    /// Tests: searches waiting for the thread.
    var queuedSearches: Int {
        condition.lock()
        defer { condition.unlock() }
        return waitingSearches
    }

    public var statistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return published
    }

    /// Lets the thread finish what is queued and exit; later searches are misses.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func enqueue(_ operation: Operation) {
        condition.lock()
        if stopping {
            condition.unlock()
            if case .snapshot(_, let reply) = operation { reply.resume(returning: .failure(CancellationError())) }
            return
        }
        queue.append(operation)
        condition.signal()
        condition.unlock()
    }

    // MARK: The store's thread

    private func run() {
        while let operations = next() {
            process(operations)
            condition.lock()
            published = Statistics(
                entries: totalEntries, bytes: totalBytes, partitions: partitions.count, evictions: evictions,
                batchedSearches: batchedSearches, searches: searches, changes: changes
            )
            condition.unlock()
        }
    }

    private func next() -> [Operation]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty, !stopping { condition.wait() }
        guard !queue.isEmpty else { return nil }
        let taken = queue
        queue.removeAll(keepingCapacity: true)
        waitingSearches = 0
        return taken
    }

    private typealias Search = (vector: [Float], profile: QuestionProfile, guard: SemanticGuard, reply: CheckedContinuation<Hit?, Never>)

    /// Runs `operations` in order; consecutive searches are answered together, one pass over
    /// each partition's matrix (an insert queued before a search is seen by it).
    private func process(_ operations: [Operation]) {
        let now = self.now()
        var searches: [String: [Search]] = [:]
        for operation in operations {
            switch operation {
            case .search(let partition, let vector, let profile, let guardModel, let reply):
                searches[partition, default: []].append((vector, profile, guardModel, reply))
                continue
            default:
                break
            }
            answer(searches, now: now)
            searches.removeAll(keepingCapacity: true)
            switch operation {
            case .search: break
            case .insert(let name, let vector, let profile, let payload, let expiry):
                guard vector.count == dimensions, expiry > now else { continue }
                insert(name, vector: vector, profile: profile, payload: payload, expiry: expiry, now: now)
            case .snapshot(let path, let reply):
                reply.resume(returning: Result { try writeSnapshot(to: path, now: now) })
            case .hold(let entered, let release):
                entered.resume()
                release.wait()
            }
        }
        answer(searches, now: now)
    }

    private func answer(_ searches: [String: [Search]], now: Double) {
        for (name, group) in searches {
            guard let partition = partitions[name] else {
                for search in group { search.reply.resume(returning: nil) }
                continue
            }
            expire(partition, now: now)
            let hits = search(partition, queries: group.map { ($0.vector, $0.profile, $0.guard) })
            for (search, hit) in zip(group, hits) { search.reply.resume(returning: hit) }
        }
    }

    private func search(_ partition: SemanticPartition, queries group: [([Float], QuestionProfile, SemanticGuard)]) -> [Hit?] {
        let rows = partition.count
        guard rows > 0 else { return group.map { _ in nil } }
        searches += group.count
        if group.count > 1 { batchedSearches += group.count }
        if scores.count < rows * group.count { scores = [Float](repeating: 0, count: rows * group.count) }
        if group.count > 1, batchScratch.count < rows * group.count { batchScratch = [Float](repeating: 0, count: rows * group.count) }
        queries.removeAll(keepingCapacity: true)
        for (vector, _, _) in group { queries += vector }
        queries.withUnsafeBufferPointer { q in
            scores.withUnsafeMutableBufferPointer { s in
                if group.count == 1 { return partition.index.scores(of: q.baseAddress!, into: s.baseAddress!) }
                batchScratch.withUnsafeMutableBufferPointer { scratch in
                    partition.index.scores(ofBatch: q.baseAddress!, queryCount: group.count, into: s.baseAddress!, scratch: scratch.baseAddress!)
                }
            }
        }
        var hits: [Hit?] = []
        for (q, (_, profile, guardModel)) in group.enumerated() {
            let neighbours = scores.withUnsafeBufferPointer { Neighbours(scores: UnsafeBufferPointer(rebasing: $0[q * rows..<(q + 1) * rows])) }
            guard let row = neighbours.rows.first, neighbours.similarities[0] >= guardModel.minimumSimilarity else {
                hits.append(nil)
                continue
            }
            let entry = partition.entries[row]
            let features = SemanticGuard.features(
                neighbours: neighbours, entryNeighbour: entry.ownNeighbour, query: profile, entry: entry.profile, dimensions: dimensions
            )
            let probability = guardModel.probability(features)
            guard probability >= guardModel.threshold else {
                hits.append(nil)
                continue
            }
            tick += 1
            partition.touch(row: row, tick: tick)
            hits.append(Hit(payload: entry.payload, similarity: neighbours.similarities[0], probability: probability))
        }
        return hits
    }

    private func insert(_ name: String, vector: [Float], profile: QuestionProfile, payload: [UInt8], expiry: Double, now: Double) {
        let partition: SemanticPartition
        if let existing = partitions[name] {
            partition = existing
            expire(partition, now: now)
        } else {
            partition = SemanticPartition(name: name, dimensions: dimensions)
            partitions[name] = partition
        }
        let rows = partition.count
        if scores.count < rows { scores = [Float](repeating: 0, count: rows) }
        tick += 1
        let before = partition.count
        let added = vector.withUnsafeBufferPointer { v in
            scores.withUnsafeMutableBufferPointer { s in
                partition.index.scores(of: v.baseAddress!, into: s.baseAddress!)
                return partition.insert(
                    vector: vector, profile: profile, payload: payload, expiry: expiry, tick: tick,
                    scores: UnsafeBufferPointer(rebasing: s[0..<rows])
                )
            }
        }
        totalBytes += added
        totalEntries += partition.count - before
        changes += 1
        while partition.count > limits.maxEntriesPerPartition, let row = partition.leastRecentlyUsed {
            totalBytes -= partition.remove(row: row)
            totalEntries -= 1
            evictions += 1
            changes += 1
        }
        if totalEntries > limits.maxEntries || totalBytes > limits.maxBytes { evictLeastRecentlyUsed() }
    }

    private func expire(_ partition: SemanticPartition, now: Double) {
        let removed = partition.removeExpired(now: now)
        totalEntries -= removed.count
        totalBytes -= removed.bytes
        changes += removed.count
        if partition.count == 0 { partitions[partition.name] = nil }
    }

    /// Brings the store to 7/8 of its limits, least recently used first (amortised: one sort
    /// per eighth of the capacity).
    private func evictLeastRecentlyUsed() {
        let targetEntries = limits.maxEntries - limits.maxEntries / 8
        let targetBytes = limits.maxBytes - limits.maxBytes / 8
        var ages: [(tick: UInt64, bytes: Int)] = []
        ages.reserveCapacity(totalEntries)
        for partition in partitions.values { for entry in partition.entries { ages.append((entry.lastUsed, entry.byteCount)) } }
        ages.sort { $0.tick < $1.tick }
        var entries = totalEntries
        var bytes = totalBytes
        var cutoff: UInt64 = 0
        for age in ages where entries > targetEntries || bytes > targetBytes {
            entries -= 1
            bytes -= age.bytes
            cutoff = age.tick
        }
        for partition in partitions.values {
            let removed = partition.remove { $0.lastUsed <= cutoff }
            totalEntries -= removed.count
            totalBytes -= removed.bytes
            evictions += removed.count
            changes += removed.count
            if partition.count == 0 { partitions[partition.name] = nil }
        }
    }

    private func writeSnapshot(to path: String, now: Double) throws -> Int {
        var records: [SemanticSnapshot.Record] = []
        for partition in partitions.values {
            expire(partition, now: now)
            for (row, entry) in partition.entries.enumerated() {
                records.append(.init(
                    partition: partition.name, vector: partition.index.vector(at: row), profile: entry.profile, payload: entry.payload,
                    expiry: entry.expiry
                ))
            }
        }
        try SemanticSnapshot.write(records, path: path, dimensions: dimensions)
        return records.count
    }
}
