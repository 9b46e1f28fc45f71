import Foundation
import Logging
import Testing
@testable import TollgateCore

/// The PostgreSQL ledger against a real server: the same reports as SQLite for the same rows,
/// batches never written twice, an outage that spills and ships, and keys shared by replicas.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, "needs TOLLGATE_TEST_POSTGRES_URL (scripts/test.sh starts PostgreSQL)"))
struct PostgresLedgerTests {
    let logger = Logger(label: "test.postgres")
    /// Far beyond any write on a loaded machine: these tests never see a timeout.
    static let patient: Duration = .seconds(600)

    /// Varied traffic over ten days: every column a report groups, filters or sums by.
    static func traffic() -> [LedgerEntry] {
        let start = LedgerFixtures.ms("2026-03-25T22:30:00Z")  // spans a DST change in Europe
        let teams: [String?] = ["growth", "search", nil]
        let users: [String?] = ["alice", "bob", "carol", nil]
        let models: [(String?, String?)] = [("auto", "gpt-5-mini"), ("gpt-5", "gpt-5"), ("claude", "claude-haiku-4-5"), ("gpt-5", nil)]
        let statuses: [LedgerEntry.CacheStatus] = [.miss, .miss, .exact, .semantic]
        let fallbacks: [LedgerEntry.Fallback] = [.none, .none, .none, .smallerModel, .template]
        return (0..<600).map { index in
            var entry = LedgerFixtures.entry(
                index, timeMs: start + Int64(index) * 1_440_017, keyID: "key_\(index % 5)", team: teams[index % 3], user: users[index % 4],
                route: index % 7 == 0 ? nil : "route-\(index % 3)", requestedModel: models[index % 4].0, servedModel: models[index % 4].1,
                inputTokens: 50 + index % 97, cachedInputTokens: index % 11, outputTokens: index % 53, costNanodollars: Int64(1_000 + index * 37),
                cacheStatus: statuses[index % 4], httpStatus: index % 13 == 0 ? 502 : 200, latencyMs: (index * 7919) % 20_000
            )
            entry.provider = index % 6 == 0 ? "" : (index % 2 == 0 ? "openai" : "anthropic")
            entry.fallback = fallbacks[index % 5]
            entry.requestedCostNanodollars = index % 3 == 0 ? nil : Int64(2_000 + index * 41)
            entry.failedAttemptsNanodollars = Int64(index % 4 * 100)
            entry.cacheAvoidedNanodollars = entry.cacheStatus == .miss ? 0 : Int64(500 + index)
            entry.tagsJSON = index % 4 == 0 ? nil : #"{"env":"\#(index % 2 == 0 ? "prod" : "dev")","feature":"f\#(index % 3)"}"#
            entry.stream = index % 2 == 0
            entry.upstreamLatencyMs = index % 5 == 0 ? nil : index % 900
            entry.featuresJSON = #"{"v":1,"n":\#(index)}"#
            entry.attemptErrors = index % 9 == 0 ? "timeout" : nil
            return entry
        }
    }

    /// Every grouping, pairs and a triple, with and without day bounds and filters.
    static func queries() -> [LedgerReport.Query] {
        let zones = [TimeZone(identifier: "UTC")!, TimeZone(identifier: "Europe/Paris")!, TimeZone(identifier: "Pacific/Kiritimati")!]
        var groupings: [[LedgerReport.Grouping]] = LedgerReport.Grouping.named.map { [$0] }
        groupings += [[.dimension(.tag("env"))], [.dimension(.tag("feature")), .dimension(.team)], [.day, .dimension(.model)]]
        groupings += [[.dimension(.team), .dimension(.user)], [.period(.week), .dimension(.key), .dimension(.provider)]]
        var queries: [LedgerReport.Query] = []
        for (index, grouping) in groupings.enumerated() {
            let zone = zones[index % zones.count]
            queries.append(.init(grouping: grouping[0], thenBy: Array(grouping.dropFirst()), timeZone: zone, savings: true))
            queries.append(.init(
                grouping: grouping[0], thenBy: Array(grouping.dropFirst()), from: LedgerDay("2026-03-27"), to: LedgerDay("2026-04-01"),
                timeZone: zone, filters: index % 2 == 0 ? [.team: "growth"] : [.tag("env"): "prod"]
            ))
            queries.append(.init(grouping: grouping[0], thenBy: Array(grouping.dropFirst()), from: LedgerDay("2026-03-30"), timeZone: zone))
        }
        return queries
    }

    @Test func reportsMatchTheSQLiteLedgerForTheSameRows() async throws {
        let database = try PostgresTestDatabase()
        try database.create()
        defer { database.drop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        let entries = Self.traffic()
        try await sqlite.write(entries, storeText: false)
        let postgres = try PostgresLedger(url: database.url, spillPath: directory.file("spill.sqlite"), writeTimeout: Self.patient, logger: self.logger)
        try await postgres.withClient {
            // Two batches, like the writer's.
            try await postgres.write(LedgerRows(entries.prefix(350), storeText: false), batch: 1)
            try await postgres.write(LedgerRows(entries.dropFirst(350), storeText: false), batch: 2)

            #expect(try await postgres.rowCount() == entries.count)
            for query in Self.queries() {
                let expected = try await sqlite.report(query)
                let got = try await postgres.report(query)
                #expect(got == expected, "\(query.groupings.map(\.rawValue)) from \(String(describing: query.from)) in \(query.timeZone.identifier)")
                #expect(!expected.rows.isEmpty)
            }
            let since = entries[200].timeMs
            func sorted(_ rows: [LedgerSpend]) -> [String] { rows.map { "\($0.keyID ?? "-")|\($0.team ?? "-")|\($0.user ?? "-")|\($0.cost.nanos)" }.sorted() }
            #expect(sorted(try await postgres.spend(sinceMs: since)) == sorted(try await sqlite.spend(sinceMs: since)))
            func sorted(_ rows: [LedgerRecentSpend]) -> [String] { rows.map { "\($0.keyID ?? "-")|\($0.team ?? "-")|\($0.recent.nanos)|\($0.before.nanos)" }.sorted() }
            #expect(sorted(try await postgres.recentSpend(sinceMs: since, splitMs: since + 86_400_000))
                == sorted(try await sqlite.recentSpend(sinceMs: since, splitMs: since + 86_400_000)))
            var read: [LedgerEntry] = []
            try await postgres.forEachEntry(fromMs: nil, toMs: nil, limit: nil) { read.append($0) }
            #expect(read == entries)
        }
    }

    @Test func aBatchWrittenAgainIsNotDoubled() async throws {
        let database = try PostgresTestDatabase()
        try database.create()
        defer { database.drop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let postgres = try PostgresLedger(url: database.url, spillPath: directory.file("spill.sqlite"), writeTimeout: Self.patient, logger: self.logger)
        var entry = LedgerFixtures.entry(1)
        entry.promptText = "a NUL \u{0} in a prompt"
        let rows = LedgerRows([entry, LedgerFixtures.entry(2)], storeText: true)
        try await postgres.withClient {
            // A commit whose answer was lost is retried with the same batch number.
            try await postgres.write(rows, batch: 7)
            try await postgres.write(rows, batch: 7)
            #expect(try await postgres.rowCount() == 2)
            try await postgres.write(rows, batch: 8)
            #expect(try await postgres.rowCount() == 4)
            var prompts: [String?] = []
            try await postgres.forEachEntry(fromMs: nil, toMs: nil, limit: 1) { prompts.append($0.promptText) }
            #expect(prompts == ["a NUL \u{FFFD} in a prompt"])
        }
    }

    /// PostgreSQL refuses connections (its database does not exist yet): rows wait in the
    /// queue, spill once it is full, and are all shipped, once each, when it answers.
    @Test func anOutageSpillsRowsAndShipsThemWhenPostgresAnswers() async throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let postgres = try PostgresLedger(url: database.url, spillPath: directory.file("spill.sqlite"), writeTimeout: Self.patient, logger: self.logger)
        let writer = LedgerWriter(
            postgres: postgres, configuration: .init(flushInterval: .milliseconds(5), queueCapacity: 20, batchSize: 10), logger: self.logger
        )
        let ledgerTask = Task { await postgres.run() }
        let writerTask = Task { try await writer.run() }
        defer {
            writerTask.cancel()
            ledgerTask.cancel()
        }
        for index in 0..<100 { await writer.record(LedgerFixtures.entry(index)) }
        // Nothing could be written: all but what the queue (20) holds went to the spill file.
        #expect(await Self.waitUntil { writer.rowsSpilled >= 80 })
        #expect(writer.rowsWritten == 0)
        #expect(!postgres.isAvailable)

        try database.create()
        #expect(await Self.waitUntil(seconds: 600) { (try? postgres.spilledRows()) == 0 && writer.queueDepth == 0 })
        #expect(await Self.waitUntil { (try? await postgres.rowCount()) == 100 })
        var ids = Set<String>()
        try await postgres.forEachEntry(fromMs: nil, toMs: nil, limit: nil) { ids.insert($0.requestID) }
        #expect(ids.count == 100)
        #expect(writer.rowsLost == 0)
    }

    /// A replica restarted during an outage finds its last run's rows in the spill file: the
    /// spend its budgets start from counts them with PostgreSQL's.
    @Test func spendCountsRowsStillInTheSpillFile() async throws {
        let database = try PostgresTestDatabase()
        try database.create()
        defer { database.drop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let postgres = try PostgresLedger(url: database.url, spillPath: directory.file("spill.sqlite"), writeTimeout: Self.patient, logger: self.logger)
        let written = LedgerRows([LedgerFixtures.entry(1, costNanodollars: 1_000), LedgerFixtures.entry(2, keyID: "key_b", costNanodollars: 20)], storeText: false)
        let spilled = LedgerRows([LedgerFixtures.entry(3, costNanodollars: 300), LedgerFixtures.entry(4, timeMs: 1, costNanodollars: 5)], storeText: false)
        try await postgres.withClient {
            try await postgres.write(written, batch: 1)
            try await postgres.spill(spilled, batch: 2)  // withClient ships nothing: the rows stay
            #expect(try postgres.spilledRows() == 2)
            var perKey: [String: Int64] = [:]
            for row in try await postgres.spend(sinceMs: 1_000) { perKey[row.keyID ?? "", default: 0] += row.cost.nanos }
            #expect(perKey == ["key_a": 1_300, "key_b": 20])  // the row before sinceMs is left out
        }
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass (far beyond what it needs).
    static func waitUntil(seconds: Double = 300, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }

    @Test func keysMadeOnOneReplicaAreSeenAndRevokedOnAnother() async throws {
        let database = try PostgresTestDatabase()
        try database.create()
        defer { database.drop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try PostgresLedger(url: database.url, spillPath: directory.file("a.sqlite"), writeTimeout: Self.patient, logger: self.logger)
        let second = try PostgresLedger(url: database.url, spillPath: directory.file("b.sqlite"), writeTimeout: Self.patient, logger: self.logger)
        try await first.withClient {
            try await second.withClient {
                let here = KeyStore(postgres: first)
                let there = KeyStore(postgres: second)
                let (key, secret) = try await here.create(KeyRequest(
                    name: "app", team: "growth", user: "ann", allowedModels: ["gpt-5*"], requestsPerMinute: 60, tokensPerMinute: nil,
                    maxConcurrent: 4, dailyBudgetUSD: 2.5
                ))
                let seen = try #require(try await there.lookup(hash: KeySecret.hash(secret)))
                #expect(seen.id == key.id && seen.team == "growth" && seen.user == "ann" && seen.allowedModels == ["gpt-5*"])
                #expect(seen.requestsPerMinute == 60 && seen.maxConcurrent == 4 && seen.dailyBudgetUSD == 2.5 && !seen.isRevoked)
                #expect(try await there.revoke(id: key.id))
                #expect(try await here.lookup(hash: KeySecret.hash(secret))?.isRevoked == true)
                #expect(try await here.list().map(\.key.id) == [key.id])
                #expect(try await there.revoke(id: "no-such-key") == false)
            }
        }
    }
}
