import Foundation
import GRDB
import Testing
@testable import TollgateCore

/// Reports by provider and tag, by two columns at once, by week and month, and the savings
/// columns: each figure checked against sums worked out by hand.
@Suite struct LedgerReportGroupingTests {
    let utc = TimeZone(identifier: "UTC")!

    static func entry(
        _ index: Int, day: String, team: String, model: String, provider: String = "openai", cost: Int64, tags: String? = nil,
        requestedModel: String = "auto", requestedCost: Int64? = nil, failedAttempts: Int64 = 0, cacheAvoided: Int64 = 0,
        cacheStatus: LedgerEntry.CacheStatus = .miss, fallback: LedgerEntry.Fallback = .none, status: Int = 200
    ) -> LedgerEntry {
        LedgerEntry(
            timeMs: LedgerFixtures.ms(day + "T12:00:00Z"), requestID: "r\(index)", keyID: "key_\(team)", team: team, user: "u\(index)",
            route: "default", requestedModel: requestedModel, servedModel: model, provider: provider, inputTokens: 10, outputTokens: 5,
            costNanodollars: cost, cacheStatus: cacheStatus, cacheAvoidedNanodollars: cacheAvoided, requestedCostNanodollars: requestedCost,
            failedAttemptsNanodollars: failedAttempts, fallback: fallback, httpStatus: status, latencyMs: 10, tagsJSON: tags
        )
    }

    /// 2025-12-29 is a Monday: its week runs into 2026, its month does not.
    static let sample: [LedgerEntry] = [
        entry(1, day: "2025-12-28", team: "growth", model: "gpt-5", cost: 5_000, tags: #"{"env":"prod","feature":"search"}"#),
        entry(2, day: "2025-12-29", team: "growth", model: "gpt-5-mini", cost: 1_000, tags: #"{"env":"prod"}"#),
        entry(3, day: "2025-12-31", team: "support", model: "claude-haiku-4-5", provider: "anthropic", cost: 2_000, tags: #"{"env":"staging"}"#),
        entry(4, day: "2026-01-01", team: "support", model: "gpt-5-mini", cost: 700),
        entry(5, day: "2026-01-05", team: "growth", model: "gpt-5-mini", cost: 300, tags: #"{"env":"prod"}"#),
    ]

    func withLedger(_ entries: [LedgerEntry], _ body: (LedgerDatabase) throws -> Void) throws {
        try LedgerFixtures.withLedger(entries, body)
    }

    func summary(_ report: LedgerReport) -> [String] {
        report.rows.map { row in row.groups.map { $0 ?? "nil" }.joined(separator: "|") + ":\(row.requests)/\(row.costNanodollars)" }
    }

    func report(_ database: LedgerDatabase, _ groupings: [LedgerReport.Grouping], savings: Bool = false) throws -> LedgerReport {
        try database.report(.init(grouping: groupings[0], thenBy: Array(groupings.dropFirst()), timeZone: self.utc, savings: savings))
    }

    @Test func providerAndTagColumns() throws {
        try self.withLedger(Self.sample) { database in
            #expect(self.summary(try self.report(database, [.dimension(.provider)])) == ["openai:4/7000", "anthropic:1/2000"])
            #expect(self.summary(try self.report(database, [.dimension(.tag("env"))])) == ["prod:3/6300", "staging:1/2000", "nil:1/700"])
            #expect(self.summary(try self.report(database, [.dimension(.tag("feature"))])) == ["search:1/5000", "nil:4/4000"])
            let filtered = try database.report(.init(grouping: .dimension(.team), timeZone: self.utc, filters: [.tag("env"): "prod"]))
            #expect(self.summary(filtered) == ["growth:3/6300"])
        }
    }

    @Test func tagNamesAreCheckedBeforeTheyReachSQL() {
        #expect(LedgerReport.Dimension(rawValue: "tag:Env") == .tag("env"))
        #expect(LedgerReport.Dimension(rawValue: "tag:feature-x.v2") == .tag("feature-x.v2"))
        for bad in ["tag:", "tag:a'b", "tag:a\"b", "tag:a b", "tag:" + String(repeating: "a", count: 65), "tags:env", "day"] {
            #expect(LedgerReport.Dimension(rawValue: bad) == nil, "\(bad)")
        }
    }

    @Test func byAndPeriodMakeTheColumns() throws {
        func columns(_ by: String?, _ period: LedgerReport.Period? = nil) -> String {
            do {
                return try LedgerReport.Query.groupings(by: by, period: period).map(\.rawValue).joined(separator: ",")
            } catch {
                return "error: " + error.description
            }
        }
        #expect(columns("team") == "team")
        #expect(columns("team, model") == "team,model")
        #expect(columns("team", .week) == "week,team")
        #expect(columns("model,day", .month) == "model,month")
        #expect(columns(nil, .day) == "day")
        #expect(columns("tag:Env,provider") == "tag:env,provider")
        #expect(columns(nil) == "error: give by, period or both")
        #expect(columns("team,bogus").hasPrefix("error: by takes day, week, month, user, team, key, model, requested_model, route, provider or tag:NAME"))
        #expect(columns("team,") .hasPrefix("error: by takes"))
        #expect(columns("day,week") == "error: by: group by at most one period (day, week or month)")
        #expect(columns("team,team") == "error: by: a column appears twice")
        #expect(columns("team,user,key,model") == "error: by: group by one to three columns")
    }

    /// Rows of one team stay together, teams by their total cost, models by cost within.
    @Test func twoColumnsAtOnce() throws {
        try self.withLedger(Self.sample) { database in
            let byTeamModel = try self.report(database, [.dimension(.team), .dimension(.model)])
            #expect(self.summary(byTeamModel) == [
                "growth|gpt-5:1/5000", "growth|gpt-5-mini:2/1300", "support|claude-haiku-4-5:1/2000", "support|gpt-5-mini:1/700",
            ])
            #expect(byTeamModel.total.costNanodollars == 9_000)
            let byModelDay = try self.report(database, [.dimension(.model), .day])
            #expect(self.summary(byModelDay) == [
                "gpt-5|2025-12-28:1/5000", "gpt-5-mini|2025-12-29:1/1000", "gpt-5-mini|2026-01-01:1/700", "gpt-5-mini|2026-01-05:1/300",
                "claude-haiku-4-5|2025-12-31:1/2000",
            ])
            #expect(byModelDay.columnNames.prefix(3) == ["model", "day", "requests"])
        }
    }

    @Test func weeksStartOnMondayAndMonthsAreCalendarMonths() throws {
        try self.withLedger(Self.sample) { database in
            #expect(self.summary(try self.report(database, [.period(.week)])) == ["2025-12-22:1/5000", "2025-12-29:3/3700", "2026-01-05:1/300"])
            #expect(self.summary(try self.report(database, [.period(.month)])) == ["2025-12:3/8000", "2026-01:2/1000"])
            #expect(self.summary(try self.report(database, [.period(.week), .dimension(.team)])) == [
                "2025-12-22|growth:1/5000", "2025-12-29|support:2/2700", "2025-12-29|growth:1/1000", "2026-01-05|growth:1/300",
            ])
            // A range cuts weeks and months at its ends.
            let range = try database.report(.init(grouping: .period(.month), from: LedgerDay("2025-12-30"), to: LedgerDay("2026-01-01"), timeZone: self.utc))
            #expect(self.summary(range) == ["2025-12:1/2000", "2026-01:1/700"])
        }
    }

    @Test func mondaysOfTheCalendar() {
        let cases = [
            ("2025-12-28", "2025-12-22"), ("2025-12-29", "2025-12-29"), ("2026-01-04", "2025-12-29"), ("2024-03-01", "2024-02-26"),
            ("2000-01-01", "1999-12-27"), ("2025-03-09", "2025-03-03"),
        ]
        for (day, monday) in cases {
            #expect(LedgerDay(day)!.weekStart.description == monday, "\(day)")
        }
        #expect(LedgerDay("2025-01-01")!.previous.description == "2024-12-31")
        #expect(LedgerDay("2024-03-01")!.previous.description == "2024-02-29")
    }

    @Test func savingsAreExactAndComeOnlyFromTheirOwnRows() throws {
        let entries = [
            // Routed to a cheaper model: the requested model's list price less the cost.
            Self.entry(1, day: "2026-01-02", team: "growth", model: "gpt-5-mini", cost: 1_000, requestedModel: "gpt-5", requestedCost: 8_000),
            // Routed to a dearer one: negative.
            Self.entry(2, day: "2026-01-02", team: "growth", model: "gpt-5", cost: 8_000, requestedModel: "cheap", requestedCost: 1_500),
            // An alias without a baseline: nothing known.
            Self.entry(3, day: "2026-01-02", team: "growth", model: "gpt-5-mini", cost: 1_000),
            // A cache hit: what the original answer cost, and no routing savings.
            Self.entry(4, day: "2026-01-02", team: "growth", model: "gpt-5-mini", cost: 0, requestedModel: "gpt-5", requestedCost: 0,
                       cacheAvoided: 1_200, cacheStatus: .exact),
            // A fallback answer: its failed attempts, and no routing savings.
            Self.entry(5, day: "2026-01-02", team: "support", model: "gpt-5-nano", cost: 2_500, requestedModel: "gpt-5", requestedCost: 9_000,
                       failedAttempts: 2_000, fallback: .smallerModel),
            // An error: everything it cost, failed attempts included.
            Self.entry(6, day: "2026-01-02", team: "support", model: "gpt-5", cost: 3_000, requestedModel: "gpt-5", requestedCost: 3_000,
                       failedAttempts: 1_000, status: 502),
        ]
        try self.withLedger(entries) { database in
            let report = try self.report(database, [.dimension(.team)], savings: true)
            let growth = report.rows[0], support = report.rows[1]
            #expect(growth.groups == ["growth"] && support.groups == ["support"])
            #expect(growth.cacheSavedNanodollars == 1_200 && support.cacheSavedNanodollars == 0)
            #expect(growth.routingSavedNanodollars == 7_000 - 6_500 && support.routingSavedNanodollars == 0)
            #expect(growth.fallbackCostNanodollars == 0 && support.fallbackCostNanodollars == 2_000)
            #expect(growth.errorCostNanodollars == 0 && support.errorCostNanodollars == 3_000)
            #expect(report.total.routingSavedNanodollars == 500 && report.total.errorCostNanodollars == 3_000)
            #expect(report.columnNames.suffix(4) == ["cache_saved_usd", "routing_saved_usd", "fallback_cost_usd", "error_cost_usd"])
            #expect(report.csv().split(separator: "\r\n")[1] == "growth,4,0,1,40,0,20,0.000010,10.0,10,0.000001,0.000001,0.000000,0.000000")
            #expect(report.table().contains("CACHE SAVED  ROUTING SAVED  FALLBACK COST  ERROR COST"))
            let plain = try self.report(database, [.dimension(.team)])
            #expect(!plain.csv().contains("saved"))
        }
    }

    /// A ledger written before savings and tags existed keeps every row, and reports on it.
    @Test func aLedgerFromBeforeSavingsMigratesKeepingItsRows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("ledger.sqlite")
        do {
            let old = try DatabaseQueue(path: path)
            try LedgerDatabase.migrator.migrate(old, upTo: "v4-cache-savings")
            try old.write { db in
                for index in 0..<3 {
                    try db.execute(
                        sql: """
                            INSERT INTO ledger_entry (time_ms, request_id, team, served_model, cost_nanos, http_status, latency_ms, cache_avoided_nanos)
                            VALUES (?, ?, 'growth', 'gpt-5-mini', 1000, 200, 10, ?)
                            """,
                        arguments: [LedgerFixtures.ms("2026-01-02T10:00:00Z"), "old-\(index)", index == 0 ? 900 : 0]
                    )
                }
            }
        }
        let database = try LedgerDatabase(path: path)
        let report = try database.report(.init(grouping: .dimension(.team), timeZone: self.utc, savings: true))
        #expect(self.summary(report) == ["growth:3/3000"])
        #expect(report.total.cacheSavedNanodollars == 900 && report.total.routingSavedNanodollars == 0)
        #expect(self.summary(try database.report(.init(grouping: .dimension(.tag("env")), timeZone: self.utc))) == ["nil:3/3000"])
        let rows = try database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM ledger_entry") }.map(LedgerDatabase.entry(from:))
        #expect(rows.count == 3 && rows.allSatisfy { $0.requestedCostNanodollars == nil && $0.failedAttemptsNanodollars == 0 && $0.tagsJSON == nil })
    }

    @Test func newColumnsSurviveTheWritersRowBuffer() throws {
        let entry = Self.entry(1, day: "2026-01-02", team: "growth", model: "gpt-5-mini", cost: 1_000, tags: #"{"env":"prod"}"#,
                               requestedModel: "gpt-5", requestedCost: 8_000, failedAttempts: 250)
        #expect(LedgerRows([entry], storeText: false).entries == [entry])
        var without = entry
        without.requestedCostNanodollars = nil
        without.tagsJSON = nil
        #expect(LedgerRows([without], storeText: false).entries == [without])
        try self.withLedger([entry]) { database in
            let stored = try database.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM ledger_entry") }.map(LedgerDatabase.entry(from:))
            #expect(stored == entry)
        }
    }
}
