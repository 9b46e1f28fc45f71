import Foundation
import GRDB
import Testing
@testable import TollgateCore

@Suite struct LedgerWriterTests {
    @Test func writesInBatchesInOrderWhileRunning() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        let writer = LedgerWriter(database: database, configuration: .init(flushInterval: .milliseconds(10), batchSize: 100))
        let entries = (0..<250).map { LedgerFixtures.entry($0, timeMs: 1_760_000_000_000 + Int64($0)) }

        try await withRunningWriter(writer) { writer in
            // One row alone is written by the flush interval, without a shutdown.
            await writer.record(entries[0])
            // A ceiling, not an estimate: under `stress` with every suite running, the pool
            // once took over 30 s to run the writer's timer.
            #expect(await eventually(within: 300) { (try? database.count()) == 1 })
            for entry in entries.dropFirst() { await writer.record(entry) }
            #expect(await eventually { (try? database.count()) == 250 })
        }
        #expect(try database.entries() == entries)
        #expect(writer.rowsWritten == 250)
        #expect(writer.batchesWritten >= 4)  // the first row alone, then at most 100 per batch
        #expect(writer.queueDepth == 0)
        #expect(writer.writeFailures == 0)
    }

    @Test func gracefulShutdownDrainsEverything() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        let writer = LedgerWriter(database: database, configuration: .init(batchSize: 500))
        try await withRunningWriter(writer) { writer in
            for index in 0..<10_000 { await writer.record(LedgerFixtures.entry(index, costNanodollars: Int64(index))) }
            // Shut down at once: the drain, not the flush interval, must write all of them.
        }
        #expect(try database.count() == 10_000)
        #expect(writer.rowsWritten == 10_000)
        #expect(writer.queueDepth == 0)
        let sum = try await database.pool.read { db in try Int64.fetchOne(db, sql: "SELECT sum(cost_nanos) FROM ledger_entry") }
        #expect(sum == Int64(10_000 * 9_999 / 2))
    }

    @Test func fullQueueMakesCallersWaitAndLosesNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        let writer = LedgerWriter(database: database, configuration: .init(queueCapacity: 10, batchSize: 4))

        // Not running yet: the queue fills, tryRecord refuses, record waits.
        for index in 0..<10 { #expect(writer.tryRecord(LedgerFixtures.entry(index))) }
        #expect(!writer.tryRecord(LedgerFixtures.entry(99)))
        let waiting = Task { await writer.record(LedgerFixtures.entry(10)) }
        #expect(await eventually { writer.waitingRecorders == 1 })
        #expect(writer.queueDepth == 11)

        try await withRunningWriter(writer) { writer in
            await waiting.value
            // Many concurrent callers against a queue of 10.
            await withTaskGroup(of: Void.self) { group in
                for task in 0..<20 {
                    group.addTask {
                        for index in 0..<100 { await writer.record(LedgerFixtures.entry(1_000 + task * 100 + index)) }
                    }
                }
            }
        }
        let ids = try database.entries().map(\.requestID)
        let expected = Set((0...10).map { "req-\($0)" } + (1_000..<3_000).map { "req-\($0)" })
        #expect(ids.count == expected.count)
        #expect(Set(ids) == expected)
        #expect(Array(ids.prefix(11)) == (0...10).map { "req-\($0)" })  // order kept for the waiting caller
        #expect(writer.waitingRecorders == 0)
    }

    @Test func failedWritesAreRetriedUntilTheyGoThrough() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        // Another connection makes every insert fail, as a full disk or a broken file would.
        let saboteur = try DatabaseQueue(path: database.path)
        try await saboteur.write { db in
            try db.execute(sql: "CREATE TRIGGER sabotage BEFORE INSERT ON ledger_entry BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
        }
        let writer = LedgerWriter(database: database, configuration: .init(flushInterval: .milliseconds(5)))
        try await withRunningWriter(writer) { writer in
            for index in 0..<50 { await writer.record(LedgerFixtures.entry(index)) }
            #expect(await eventually { writer.writeFailures >= 2 })
            #expect(try database.count() == 0)
            try await saboteur.write { db in try db.execute(sql: "DROP TRIGGER sabotage") }
            #expect(await eventually { (try? database.count()) == 50 })
        }
        #expect(try database.entries().map(\.requestID) == (0..<50).map { "req-\($0)" })
        #expect(writer.rowsLost == 0)
    }

    @Test func textIsKeptOnlyWhenSwitchedOn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var withText = LedgerFixtures.entry(1)
        withText.promptText = "what is the secret plan?"
        withText.responseText = "there is none"
        withText.featuresJSON = #"{"prompt_tokens":7}"#
        let entry = withText

        for storeText in [false, true] {
            let database = try LedgerDatabase(path: directory.file("ledger-\(storeText).sqlite"))
            let writer = LedgerWriter(database: database, configuration: .init(storeText: storeText))
            try await withRunningWriter(writer) { writer in await writer.record(entry) }
            let stored = try #require(try database.entries().first)
            #expect(stored.promptText == (storeText ? entry.promptText : nil))
            #expect(stored.responseText == (storeText ? entry.responseText : nil))
            #expect(stored.featuresJSON == entry.featuresJSON)
        }
    }

    @Test func rowsRecordedAfterTheWriterStoppedAreStillWritten() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        let writer = LedgerWriter(database: database)
        try await withRunningWriter(writer) { writer in await writer.record(LedgerFixtures.entry(1)) }
        #expect(!writer.tryRecord(LedgerFixtures.entry(2)))
        await writer.record(LedgerFixtures.entry(3))
        #expect(try database.entries().map(\.requestID) == ["req-1", "req-3"])
    }

    @Test func everyFieldRoundTrips() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        let full = LedgerEntry(
            timeMs: 1_760_000_123_456, requestID: "req-full", keyID: "key_1", team: "t", user: "u", route: "r",
            requestedModel: "auto", servedModel: "gpt-5", provider: "azure-east", inputTokens: 1, cachedInputTokens: 2,
            outputTokens: 3, costNanodollars: 4, cacheStatus: .semantic, fallback: .smallerModel, httpStatus: 200,
            errorCode: "none_really", stream: true, latencyMs: 5, upstreamLatencyMs: 6, timeToFirstTokenMs: 7,
            featuresJSON: "{}", promptText: "p", responseText: "r"
        )
        let sparse = LedgerEntry(timeMs: 1, requestID: "req-sparse", httpStatus: 401, errorCode: "invalid_api_key", latencyMs: 0)
        // Values bound straight to SQLite: empty strings stay empty (not NULL), text stays exact.
        let edges = LedgerEntry(
            timeMs: 2, requestID: "", keyID: "", team: "équipe 🚀", user: "tab\there", httpStatus: 200,
            latencyMs: Int(Int32.max) + 1, upstreamLatencyMs: 0, promptText: "", responseText: String(repeating: "ж", count: 70_000)
        )
        let extremes = {
            var entry = edges
            entry.requestID = "req-extremes"
            entry.costNanodollars = .max
            entry.inputTokens = .max
            return entry
        }()
        // Rows of very different lengths share the queue's buffer and are bound from it in place.
        let straddling = LedgerEntry(
            timeMs: 3, requestID: "req-straddling", keyID: "key_2", httpStatus: 200, latencyMs: 1,
            featuresJSON: String(repeating: "f", count: 4_000), promptText: String(repeating: "q", count: 200), responseText: "r"
        )
        let writer = LedgerWriter(database: database, configuration: .init(storeText: true))
        try await withRunningWriter(writer) { writer in
            await writer.record(full)
            await writer.record(sparse)
            await writer.record(edges)
            await writer.record(straddling)
            await writer.record(extremes)
        }
        #expect(try database.entries() == [sparse, edges, extremes, straddling, full])
    }

    /// Rows of every shape, in batches one after another on the same cached statement: every
    /// row lands once, in order, with its own values and none of the last batch's.
    @Test func batchesOnOneStatementKeepEveryRow() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        let count = 37
        let entries = (0..<count).map { index in
            LedgerEntry(
                timeMs: 1_760_000_000_000 + Int64(index), requestID: "req-\(index)", keyID: index % 3 == 0 ? nil : "key_\(index)",
                user: String(repeating: "u", count: index), inputTokens: index, costNanodollars: Int64(index) * 7, httpStatus: 200 + index,
                stream: index % 2 == 0, latencyMs: index, upstreamLatencyMs: index % 4 == 0 ? nil : index, promptText: "p\(index)"
            )
        }
        // A second batch on the same statement, without its text.
        let later = entries.prefix(3).map { entry in
            var entry = entry
            entry.timeMs += 1_000
            return entry
        }
        try await database.write(entries, storeText: true)
        try await database.write(later, storeText: false)
        let stored = try database.entries()
        #expect(stored == entries + later.map { entry in
            var entry = entry
            entry.promptText = nil
            return entry
        })
    }

    @Test func costConversions() {
        var entry = LedgerFixtures.entry(1)
        entry.costUSD = 0.000_000_15 * 1_234  // 1234 tokens at $0.15 per million
        #expect(entry.costNanodollars == 185_100)
        #expect(LedgerEntry.nanodollars(usd: Decimal(string: "12.3456789994")!) == 12_345_678_999)
        #expect(entry.costDecimal == Decimal(string: "0.0001851"))
    }
}
