import GRDB
import Testing
@testable import TollgateCore

/// Ledger rows as the queue holds them: bytes that must give back exactly what went in.
@Suite struct LedgerRowsTests {
    static let full = LedgerEntry(
        timeMs: -1, requestID: "req-full", keyID: "", team: "équipe 🚀", user: "tab\there", route: "r", requestedModel: "auto",
        servedModel: "gpt-5", provider: "azure-east", inputTokens: .max, cachedInputTokens: 2, outputTokens: 3,
        costNanodollars: .min, cacheStatus: .semantic, fallback: .smallerModel, httpStatus: 200, errorCode: "e", stream: true,
        latencyMs: 5, upstreamLatencyMs: 0, timeToFirstTokenMs: -7, featuresJSON: "{}", promptText: "",
        responseText: String(repeating: "ж", count: 70_000)
    )

    @Test func everyFieldComesBackExactly() {
        let sparse = LedgerEntry(timeMs: 1, requestID: "req-sparse", httpStatus: 401, latencyMs: 0)
        let rows = LedgerRows([Self.full, sparse], storeText: true)
        #expect(rows.count == 2)
        #expect(rows.entries == [Self.full, sparse])
    }

    @Test func textIsDroppedUnlessStored() {
        var expected = Self.full
        expected.promptText = nil
        expected.responseText = nil
        #expect(LedgerRows([Self.full], storeText: false).entries == [expected])
    }

    /// Each cache status and fallback is stored under its name, in the buffer and in SQLite.
    @Test func everyCacheStatusAndFallbackKeepsItsName() async throws {
        var entries: [LedgerEntry] = []
        for status in LedgerEntry.CacheStatus.allCases {
            entries.append(LedgerEntry(timeMs: 0, requestID: status.rawValue, cacheStatus: status, httpStatus: 200, latencyMs: 0))
        }
        for fallback in LedgerEntry.Fallback.allCases {
            entries.append(LedgerEntry(timeMs: 0, requestID: fallback.rawValue, fallback: fallback, httpStatus: 200, latencyMs: 0))
        }
        #expect(LedgerRows(entries, storeText: false).entries == entries)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        try await database.write(entries, storeText: false)
        let names = try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT cache_status, fallback FROM ledger_entry ORDER BY id").map { [$0[0] as String, $0[1] as String] }
        }
        #expect(names == entries.map { [$0.cacheStatus.rawValue, $0.fallback.rawValue] })
    }

    @Test func batchesTakeTheOldestRowsAndLeaveTheRestInOrder() {
        let entries = (0..<5).map { LedgerFixtures.entry($0) }
        var rows = LedgerRows(entries, storeText: false)
        var batch = LedgerRows([LedgerFixtures.entry(99)], storeText: false)  // emptied first
        rows.moveFirst(2, into: &batch)
        #expect(batch.entries.map(\.requestID) == ["req-0", "req-1"])
        #expect(rows.entries.map(\.requestID) == ["req-2", "req-3", "req-4"])
        // Rows added after a partial batch follow the ones left.
        rows.append(LedgerFixtures.entry(5), storeText: false)
        rows.moveFirst(10, into: &batch)
        #expect(batch.entries.map(\.requestID) == ["req-2", "req-3", "req-4", "req-5"])
        #expect(rows.isEmpty)
        // The emptied buffer takes new rows.
        rows.append(LedgerFixtures.entry(6), storeText: false)
        for entry in batch.entries { rows.append(entry, storeText: false) }
        #expect(rows.entries.map(\.requestID) == ["req-6", "req-2", "req-3", "req-4", "req-5"])
        rows.moveFirst(0, into: &batch)
        #expect(batch.isEmpty && rows.count == 5)
    }
}
