import Foundation
import Synchronization
import Testing
@testable import TollgateEmbedding

/// The semantic cache's store on synthetic vectors, with a guard that serves on cosine alone
/// (>= 0.9), so that what is tested is the store: partitions, batching, capacity, expiry,
/// saturation and snapshots. The fitted guard is tested on real questions in
/// `SemanticGuardTests`.
@Suite struct SemanticStoreTests {
    static let dimensions = 8
    static let cosineOnly = SemanticGuard(
        intercept: -36, weights: [40] + [Double](repeating: 0, count: SemanticGuard.Feature.allCases.count - 1), threshold: 0.5,
        minimumSimilarity: 0.5
    )
    static let plain = QuestionProfile(tokenVectors: [], numbers: [], negated: false, wordSequence: [])

    /// A unit vector along axis `axis`, tilted towards axis `axis + 1` by `tilt`.
    static func vector(_ axis: Int, tilt: Float = 0) -> [Float] {
        var v = [Float](repeating: 0, count: dimensions)
        v[axis] = 1
        v[(axis + 1) % dimensions] = tilt
        let norm = (1 + tilt * tilt).squareRoot()
        return v.map { $0 / norm }
    }

    final class Clock: Sendable {
        let seconds = Mutex(1_000_000.0)
        var now: @Sendable () -> Double { { self.seconds.withLock { $0 } } }
    }

    func store(limits: SemanticStore.Limits = .init(), maxWaiting: Int = 256, clock: Clock = Clock()) -> SemanticStore {
        SemanticStore(dimensions: Self.dimensions, limits: limits, maxWaiting: maxWaiting, now: clock.now)
    }

    func search(_ store: SemanticStore, _ partition: String, _ vector: [Float]) async -> String? {
        await store.search(partition: partition, vector: vector, profile: Self.plain, guard: Self.cosineOnly).map { String(decoding: $0.payload, as: UTF8.self) }
    }

    func insert(_ store: SemanticStore, _ partition: String, _ vector: [Float], _ answer: String, expiry: Double = 2_000_000) {
        store.insert(partition: partition, vector: vector, profile: Self.plain, payload: Array(answer.utf8), expiry: expiry)
    }

    @Test func servesTheNearestEntryOfItsOwnPartitionOnly() async {
        let store = store()
        defer { store.shutdown() }
        insert(store, "team-a", Self.vector(0), "a0")
        insert(store, "team-a", Self.vector(2), "a2")
        insert(store, "team-b", Self.vector(4), "b4")
        #expect(await search(store, "team-a", Self.vector(0, tilt: 0.1)) == "a0")
        #expect(await search(store, "team-a", Self.vector(2, tilt: 0.1)) == "a2")
        #expect(await search(store, "team-a", Self.vector(4)) == nil, "team-b's entry is not team-a's")
        #expect(await search(store, "team-b", Self.vector(0)) == nil)
        #expect(await search(store, "team-c", Self.vector(0)) == nil)
        #expect(await search(store, "team-a", Self.vector(0, tilt: 1)) == nil, "cosine 0.71: the guard refuses")
        #expect(store.statistics.entries == 3)
    }

    @Test func theSameQuestionAgainReplacesItsAnswer() async {
        let store = store()
        defer { store.shutdown() }
        insert(store, "p", Self.vector(1), "old")
        insert(store, "p", Self.vector(1), "new")
        #expect(await search(store, "p", Self.vector(1)) == "new")
        #expect(store.statistics.entries == 1)
    }

    @Test func searchesThatArriveTogetherShareOneMatrixProduct() async {
        let store = store()
        defer { store.shutdown() }
        for axis in 0..<Self.dimensions { insert(store, "p", Self.vector(axis), "answer \(axis)") }
        let release = await store.hold()
        let answers = await withTaskGroup(of: (Int, String?).self) { group in
            for axis in 0..<Self.dimensions {
                group.addTask { (axis, await self.search(store, "p", Self.vector(axis, tilt: 0.05))) }
            }
            // Every search is queued behind the hold before the thread goes on.
            while store.queuedSearches < Self.dimensions { await Task.yield() }
            release()
            return await group.reduce(into: [Int: String?]()) { $0[$1.0] = $1.1 }
        }
        for axis in 0..<Self.dimensions { #expect(answers[axis] == "answer \(axis)") }
        #expect(store.statistics.batchedSearches == Self.dimensions)
    }

    @Test func aSaturatedStoreMissesAtOnceInsteadOfQueueing() async {
        let store = store(maxWaiting: 2)
        defer { store.shutdown() }
        insert(store, "p", Self.vector(0), "a")
        let release = await store.hold()
        async let first = search(store, "p", Self.vector(0))
        async let second = search(store, "p", Self.vector(0))
        while store.queuedSearches < 2 { await Task.yield() }
        #expect(await search(store, "p", Self.vector(0)) == nil)
        release()
        #expect(await first == "a")
        #expect(await second == "a")
    }

    @Test func expiredEntriesAreNotServed() async {
        let clock = Clock()
        let store = store(clock: clock)
        defer { store.shutdown() }
        insert(store, "p", Self.vector(0), "short", expiry: 1_000_010)
        insert(store, "p", Self.vector(3), "long", expiry: 1_000_100)
        #expect(await search(store, "p", Self.vector(0)) == "short")
        clock.seconds.withLock { $0 = 1_000_011 }
        #expect(await search(store, "p", Self.vector(0)) == nil)
        #expect(await search(store, "p", Self.vector(3)) == "long")
        #expect(store.statistics.entries == 1)
    }

    @Test func aFullPartitionEvictsItsLeastRecentlyUsedEntry() async {
        let store = store(limits: .init(maxEntries: 100, maxBytes: 1 << 20, maxEntriesPerPartition: 3))
        defer { store.shutdown() }
        for axis in 0..<3 { insert(store, "p", Self.vector(axis), "\(axis)") }
        #expect(await search(store, "p", Self.vector(0)) == "0", "used: 1 is now the least recent")
        insert(store, "p", Self.vector(5), "5")
        #expect(await search(store, "p", Self.vector(1)) == nil)
        for axis in [0, 2, 5] { #expect(await search(store, "p", Self.vector(axis)) == "\(axis)") }
        #expect(store.statistics.evictions == 1)
    }

    @Test func theStoreStaysWithinItsOverallLimits() async {
        let store = store(limits: .init(maxEntries: 16, maxBytes: 1 << 20, maxEntriesPerPartition: 100))
        defer { store.shutdown() }
        for partition in 0..<10 {
            for axis in 0..<4 { insert(store, "p\(partition)", Self.vector(axis), "\(partition)/\(axis)") }
        }
        #expect(await search(store, "p9", Self.vector(3)) == "9/3", "the newest entries stay")
        let statistics = store.statistics
        #expect(statistics.entries <= 16)
        #expect(statistics.evictions == 40 - statistics.entries)
        #expect(await search(store, "p0", Self.vector(0)) == nil, "the oldest went first")
    }

    @Test func aSnapshotRestoresLiveEntries() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("semantic-\(UUID()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = Clock()
        let first = store(clock: clock)
        let profile = QuestionProfile(tokenVectors: [0.5, -0.25], numbers: [7], negated: true, wordSequence: [9, 1])
        first.insert(partition: "team-a", vector: Self.vector(0), profile: profile, payload: Array("kept".utf8), expiry: 1_000_500)
        insert(first, "team-b", Self.vector(1), "expires", expiry: 1_000_050)
        #expect(try await first.snapshot(to: path) == 2)
        first.shutdown()

        clock.seconds.withLock { $0 = 1_000_100 }
        let second = store(clock: clock)
        defer { second.shutdown() }
        #expect(try second.load(from: path) == 1)
        #expect(await search(second, "team-a", Self.vector(0)) == "kept")
        #expect(await search(second, "team-b", Self.vector(1)) == nil)

        let records = try SemanticSnapshot.read(path: path, dimensions: Self.dimensions)
        #expect(records.first { $0.partition == "team-a" }?.profile == profile)
        #expect(throws: SemanticSnapshot.Corrupt.self) { try SemanticSnapshot.read(path: path, dimensions: 384) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: path))
        #expect(throws: SemanticSnapshot.Corrupt.self) { try second.load(from: path) }
        #expect(try second.load(from: path + ".missing") == 0)
    }
}
