import Foundation
import GRDB
import Testing
@testable import TollgateCore

@Suite struct LedgerReportTests {
    let utc = TimeZone(identifier: "UTC")!

    /// Five requests over three UTC days: two users' successes, a 429, a 401 without key or
    /// user, a semantic cache hit.
    static let sample: [LedgerEntry] = [
        LedgerFixtures.entry(1, timeMs: LedgerFixtures.ms("2025-01-01T10:00:00Z"), keyID: "key_a", team: "growth", user: "alice",
                             route: "default", servedModel: "gpt-5-mini", inputTokens: 100, cachedInputTokens: 20, outputTokens: 10,
                             costNanodollars: 1_000, latencyMs: 100),
        LedgerFixtures.entry(2, timeMs: LedgerFixtures.ms("2025-01-01T12:00:00Z"), keyID: "key_a", team: "growth", user: "alice",
                             route: "smart", servedModel: "gpt-5", inputTokens: 200, cachedInputTokens: 0, outputTokens: 20,
                             costNanodollars: 5_000, cacheStatus: .exact, latencyMs: 20),
        LedgerFixtures.entry(3, timeMs: LedgerFixtures.ms("2025-01-02T00:00:00Z"), keyID: "key_b", team: "growth", user: "bob",
                             route: "default", servedModel: "gpt-5-mini", inputTokens: 300, outputTokens: 30,
                             costNanodollars: 2_000, httpStatus: 429, latencyMs: 5),
        LedgerFixtures.entry(4, timeMs: LedgerFixtures.ms("2025-01-03T23:59:59Z") + 999, keyID: nil, team: nil, user: nil,
                             route: nil, requestedModel: "gpt-4o", servedModel: nil, inputTokens: 0, outputTokens: 0,
                             costNanodollars: 0, httpStatus: 401, latencyMs: 1),
        LedgerFixtures.entry(5, timeMs: LedgerFixtures.ms("2025-01-03T05:00:00Z"), keyID: "key_c", team: "support", user: "carol",
                             route: "default", servedModel: "gpt-5-mini", inputTokens: 50, cachedInputTokens: 50, outputTokens: 5,
                             costNanodollars: 333, cacheStatus: .semantic, latencyMs: 40),
    ]

    func withLedger(_ entries: [LedgerEntry], _ body: (LedgerDatabase) throws -> Void) throws {
        try LedgerFixtures.withLedger(entries, body)
    }

    func summary(_ report: LedgerReport) -> [String] {
        report.rows.map { "\($0.group ?? "nil"):\($0.requests)/\($0.costNanodollars)" }
    }

    @Test func sumsPerUserAreExact() throws {
        try self.withLedger(Self.sample) { database in
            let report = try database.report(.init(grouping: .dimension(.user), timeZone: self.utc))
            #expect(report.rows == [
                .init(group: "alice", requests: 2, errors: 0, cacheHits: 1, inputTokens: 300, cachedInputTokens: 20,
                      outputTokens: 30, costNanodollars: 6_000, latencySumMs: 120, p95LatencyMs: 100, p50LatencyMs: 20),
                .init(group: "bob", requests: 1, errors: 1, cacheHits: 0, inputTokens: 300, cachedInputTokens: 0,
                      outputTokens: 30, costNanodollars: 2_000, latencySumMs: 5, p95LatencyMs: 5, p50LatencyMs: 5, errorCostNanodollars: 2_000),
                .init(group: "carol", requests: 1, errors: 0, cacheHits: 1, inputTokens: 50, cachedInputTokens: 50,
                      outputTokens: 5, costNanodollars: 333, latencySumMs: 40, p95LatencyMs: 40, p50LatencyMs: 40),
                .init(group: nil, requests: 1, errors: 1, cacheHits: 0, inputTokens: 0, cachedInputTokens: 0,
                      outputTokens: 0, costNanodollars: 0, latencySumMs: 1, p95LatencyMs: 1, p50LatencyMs: 1),
            ])
            #expect(report.total == .init(
                group: nil, requests: 5, errors: 2, cacheHits: 2, inputTokens: 650, cachedInputTokens: 70,
                outputTokens: 65, costNanodollars: 8_333, latencySumMs: 166, p95LatencyMs: 100, p50LatencyMs: 20, errorCostNanodollars: 2_000
            ))
            #expect(report.rows[0].averageLatencyMs == 60)
        }
    }

    @Test func everyGrouping() throws {
        try self.withLedger(Self.sample) { database in
            func rows(_ grouping: String) throws -> [String] {
                self.summary(try database.report(.init(grouping: .init(rawValue: grouping)!, timeZone: self.utc)))
            }
            #expect(try rows("day") == ["2025-01-01:2/6000", "2025-01-02:1/2000", "2025-01-03:2/333"])
            #expect(try rows("team") == ["growth:3/8000", "support:1/333", "nil:1/0"])
            #expect(try rows("key") == ["key_a:2/6000", "key_b:1/2000", "key_c:1/333", "nil:1/0"])
            #expect(try rows("model") == ["gpt-5:1/5000", "gpt-5-mini:3/3333", "gpt-4o:1/0"])
            #expect(try rows("route") == ["smart:1/5000", "default:3/3333", "nil:1/0"])
            for grouping in LedgerReport.Grouping.named {
                let report = try database.report(.init(grouping: grouping, timeZone: self.utc))
                #expect(report.total.costNanodollars == 8_333, "\(grouping)")
                #expect(report.rows.map(\.requests).reduce(0, +) == 5, "\(grouping)")
            }
        }
    }

    @Test func fromAndToAreInclusiveDays() throws {
        try self.withLedger(Self.sample) { database in
            func days(_ from: String?, _ to: String?, _ grouping: LedgerReport.Grouping = .day) throws -> [String] {
                self.summary(try database.report(.init(
                    grouping: grouping, from: from.flatMap(LedgerDay.init), to: to.flatMap(LedgerDay.init), timeZone: self.utc
                )))
            }
            #expect(try days("2025-01-02", "2025-01-02") == ["2025-01-02:1/2000"])
            #expect(try days("2025-01-02", nil) == ["2025-01-02:1/2000", "2025-01-03:2/333"])
            #expect(try days(nil, "2025-01-01") == ["2025-01-01:2/6000"])
            #expect(try days("2025-01-03", "2025-01-03", .dimension(.user)) == ["carol:1/333", "nil:1/0"])
            #expect(try days("2024-12-01", "2024-12-31") == [])
            let empty = try database.report(.init(grouping: .day, from: LedgerDay("2024-12-01"), to: LedgerDay("2024-12-31"), timeZone: self.utc))
            #expect(empty.total == .init(group: nil))
        }
    }

    @Test func filtersUseOneDimension() throws {
        try self.withLedger(Self.sample) { database in
            let growth = try database.report(.init(grouping: .day, timeZone: self.utc, filters: [.team: "growth"]))
            #expect(self.summary(growth) == ["2025-01-01:2/6000", "2025-01-02:1/2000"])
            let mini = try database.report(.init(grouping: .dimension(.user), timeZone: self.utc, filters: [.model: "gpt-5-mini", .route: "default"]))
            #expect(self.summary(mini) == ["bob:1/2000", "alice:1/1000", "carol:1/333"])
        }
    }

    /// New York: 2025-03-09 has 23 hours (05:00Z to 04:00Z next day), 2025-11-02 has 25.
    @Test func daysFollowTheTimeZoneAcrossDSTChanges() throws {
        let newYork = TimeZone(identifier: "America/New_York")!
        let instants = [
            "2025-03-09T04:59:59Z",  // Mar 8, 23:59:59 EST
            "2025-03-09T05:00:00Z",  // Mar 9, 00:00 EST
            "2025-03-10T03:59:59Z",  // Mar 9, 23:59:59 EDT
            "2025-03-10T04:00:00Z",  // Mar 10, 00:00 EDT
            "2025-11-02T04:00:00Z",  // Nov 2, 00:00 EDT
            "2025-11-03T04:30:00Z",  // Nov 2, 23:30 EST
            "2025-11-03T05:00:00Z",  // Nov 3, 00:00 EST
        ]
        let entries = instants.enumerated().map { LedgerFixtures.entry($0.offset, timeMs: LedgerFixtures.ms($0.element)) }
        try self.withLedger(entries) { database in
            let local = try database.report(.init(grouping: .day, timeZone: newYork))
            #expect(self.summary(local) == ["2025-03-08:1/1000", "2025-03-09:2/2000", "2025-03-10:1/1000", "2025-11-02:2/2000", "2025-11-03:1/1000"])
            let utc = try database.report(.init(grouping: .day, timeZone: self.utc))
            #expect(self.summary(utc) == ["2025-03-09:2/2000", "2025-03-10:2/2000", "2025-11-02:1/1000", "2025-11-03:2/2000"])
            let oneDay = try database.report(.init(grouping: .dimension(.user), from: LedgerDay("2025-03-09"), to: LedgerDay("2025-03-09"), timeZone: newYork))
            #expect(oneDay.total.requests == 2)
            let fallBack = try database.report(.init(grouping: .day, from: LedgerDay("2025-11-02"), to: LedgerDay("2025-11-02"), timeZone: newYork))
            #expect(self.summary(fallBack) == ["2025-11-02:2/2000"])
        }
    }

    @Test func p95IsTheNearestRank() throws {
        let entries = (1...20).map { LedgerFixtures.entry($0, user: $0 <= 10 ? "a" : "b", latencyMs: $0) }
        try self.withLedger(entries) { database in
            let report = try database.report(.init(grouping: .dimension(.user), timeZone: self.utc))
            #expect(report.rows.map(\.group) == ["a", "b"])  // same cost and requests: by name
            #expect(report.rows.map(\.p95LatencyMs) == [10, 20])  // rank ceil(0.95 * 10) = 10
            #expect(report.total.p95LatencyMs == 19)  // rank ceil(0.95 * 20) = 19
            #expect(report.rows.map(\.p50LatencyMs) == [5, 15] && report.total.p50LatencyMs == 10)  // ranks 5, 5 and 10
            #expect(report.total.averageLatencyMs == 10.5)
            let withoutP95 = try database.report(.init(grouping: .dimension(.user), timeZone: self.utc, includeP95: false))
            #expect(withoutP95.rows.allSatisfy { $0.p95LatencyMs == nil })
        }
    }

    @Test func p95HasTwoSignificantDigits() throws {
        let latencies = [99, 150, 1_234, 12_345, 987_654, 3_600_000]
        let entries = latencies.enumerated().map { LedgerFixtures.entry($0.offset, user: "u\($0.offset)", costNanodollars: Int64($0.offset), latencyMs: $0.element) }
        try self.withLedger(entries) { database in
            let report = try database.report(.init(grouping: .dimension(.user), timeZone: self.utc))
            #expect(report.rows.map(\.p95LatencyMs) == [3_600_000, 980_000, 12_000, 1_200, 150, 99])
            #expect(report.total.p95LatencyMs == 3_600_000)
        }
    }

    @Test func noLedgerFileIsAnEmptyReport() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("never-written/ledger.sqlite")
        for grouping in LedgerReport.Grouping.named {
            let report = try LedgerReport.make(.init(grouping: grouping), path: path)
            #expect(report.rows.isEmpty)
            #expect(report.total.requests == 0)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        let empty = try LedgerDatabase(path: directory.file("empty.sqlite"))
        #expect(try empty.report(.init(grouping: .day)).rows.isEmpty)
    }

    @Test func reportsUseTheIndexes() throws {
        try self.withLedger(Self.sample) { database in
            let plans = try database.pool.read { db in
                (
                    day: try Row.fetchAll(db, sql: """
                        EXPLAIN QUERY PLAN WITH d(day, start_ms, end_ms) AS (VALUES ('2025-01-01', 0, 10), ('2025-01-02', 10, 20))
                        SELECT d.day, count(*) FROM d CROSS JOIN ledger_entry e ON e.time_ms >= d.start_ms AND e.time_ms < d.end_ms GROUP BY d.day
                        """).map { $0["detail"] as String }.joined(separator: "; "),
                    key: try Row.fetchAll(db, sql: """
                        EXPLAIN QUERY PLAN SELECT sum(cost_nanos) FROM ledger_entry e WHERE e.key_id = ? AND e.time_ms >= ? AND e.time_ms < ?
                        """, arguments: ["key_a", 0, 10]).map { $0["detail"] as String }.joined(separator: "; "),
                    user: try Row.fetchAll(db, sql: """
                        EXPLAIN QUERY PLAN SELECT +e.user AS grp, count(*) FROM ledger_entry e WHERE e.time_ms >= ? GROUP BY grp
                        """, arguments: [0]).map { $0["detail"] as String }.joined(separator: "; "),
                    model: try Row.fetchAll(db, sql: """
                        EXPLAIN QUERY PLAN SELECT count(*) FROM ledger_entry e WHERE coalesce(e.served_model, e.requested_model) = ? AND e.time_ms >= ?
                        """, arguments: ["gpt-5", 0]).map { $0["detail"] as String }.joined(separator: "; ")
                )
            }
            #expect(plans.day.contains("ledger_entry_time"), "\(plans.day)")
            #expect(plans.key.contains("ledger_entry_key_time"), "\(plans.key)")
            // Model and route have no index of their own: a range scan by time serves them.
            #expect(plans.model.contains("ledger_entry_time"), "\(plans.model)")
            #expect(!plans.user.contains("ledger_entry_user_time"), "\(plans.user)")
        }
    }
}
