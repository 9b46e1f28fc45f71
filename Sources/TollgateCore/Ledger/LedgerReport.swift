import Foundation
import GRDB

/// Requests, tokens, cost and latency from the ledger, summed per day, user, team, key,
/// model or route over a range of days. Aggregated in SQL; sums are exact integers.
public struct LedgerReport: Sendable, Equatable {
    /// A column a report can group or filter by.
    public enum Dimension: String, Sendable, CaseIterable {
        case user, team, key, model, route

        /// The SQL expression. `model` is the model that answered, or the one asked for when
        /// none did (requests rejected before reaching a provider). The ledger indexes
        /// `(expression, time_ms)` for each.
        var column: String {
            switch self {
            case .user: "user"
            case .team: "team"
            case .key: "key_id"
            case .model: "coalesce(served_model, requested_model)"
            case .route: "route"
            }
        }
    }

    /// What a report has one row per.
    public enum Grouping: Sendable, Hashable, CaseIterable, RawRepresentable {
        /// Calendar days in the report's time zone.
        case day
        case dimension(Dimension)

        public static let allCases: [Grouping] = [.day] + Dimension.allCases.map(Grouping.dimension)

        public init?(rawValue: String) {
            if rawValue == "day" {
                self = .day
            } else if let dimension = Dimension(rawValue: rawValue) {
                self = .dimension(dimension)
            } else {
                return nil
            }
        }

        /// `day`, `user`, `team`, `key`, `model` or `route`.
        public var rawValue: String {
            switch self {
            case .day: "day"
            case .dimension(let dimension): dimension.rawValue
            }
        }
    }

    /// Which report to make.
    public struct Query: Sendable, Equatable {
        public var grouping: Grouping
        /// First day included; nil: from the first request.
        public var from: LedgerDay?
        /// Last day included; nil: up to the last request.
        public var to: LedgerDay?
        /// The zone days are counted in (the gateway's `time_zone`).
        public var timeZone: TimeZone
        /// Only requests whose dimension has this value (e.g. one team's spend by day).
        public var filters: [Dimension: String]
        /// Compute the 95th percentile latency (one more aggregation pass over the rows).
        public var includeP95: Bool

        public init(
            grouping: Grouping,
            from: LedgerDay? = nil,
            to: LedgerDay? = nil,
            timeZone: TimeZone = .current,
            filters: [Dimension: String] = [:],
            includeP95: Bool = true
        ) {
            self.grouping = grouping
            self.from = from
            self.to = to
            self.timeZone = timeZone
            self.filters = filters
            self.includeP95 = includeP95
        }
    }

    /// One group's sums.
    public struct Row: Sendable, Equatable {
        /// The day (`YYYY-MM-DD`), user, team, key id, model or route; nil for requests
        /// without one (no user given, no key).
        public var group: String?
        public var requests: Int
        /// Requests answered with status 400 or above.
        public var errors: Int
        /// Requests answered from the exact or semantic cache.
        public var cacheHits: Int
        public var inputTokens: Int
        public var cachedInputTokens: Int
        public var outputTokens: Int
        public var costNanodollars: Int64
        /// Sum of total latencies, for the average.
        public var latencySumMs: Int
        /// Nearest-rank 95th percentile of total latency, to two significant digits rounded
        /// down (exact below 100 ms); nil when not computed or without requests.
        public var p95LatencyMs: Int?

        public init(
            group: String?, requests: Int = 0, errors: Int = 0, cacheHits: Int = 0, inputTokens: Int = 0,
            cachedInputTokens: Int = 0, outputTokens: Int = 0, costNanodollars: Int64 = 0, latencySumMs: Int = 0,
            p95LatencyMs: Int? = nil
        ) {
            self.group = group
            self.requests = requests
            self.errors = errors
            self.cacheHits = cacheHits
            self.inputTokens = inputTokens
            self.cachedInputTokens = cachedInputTokens
            self.outputTokens = outputTokens
            self.costNanodollars = costNanodollars
            self.latencySumMs = latencySumMs
            self.p95LatencyMs = p95LatencyMs
        }

        public var costUSD: Double { Double(self.costNanodollars) / 1_000_000_000 }

        /// Mean total latency; nil without requests.
        public var averageLatencyMs: Double? {
            self.requests > 0 ? Double(self.latencySumMs) / Double(self.requests) : nil
        }
    }

    public var query: Query
    /// Days in order for `.day`; otherwise by cost, then requests, descending.
    public var rows: [Row]
    /// All rows together (`group` nil).
    public var total: Row

    public init(query: Query, rows: [Row], total: Row) {
        self.query = query
        self.rows = rows
        self.total = total
    }

    /// The report from the ledger file at `path`; empty when there is no such file yet.
    public static func make(_ query: Query, path: String) throws -> LedgerReport {
        guard let database = try LedgerDatabase.openIfPresent(path: path) else {
            return LedgerReport(query: query, rows: [], total: Row(group: nil))
        }
        return try database.report(query)
    }
}

// MARK: - Queries

extension LedgerDatabase {
    /// Runs `query` on a reader connection (blocking the calling thread; see the async overload).
    public func report(_ query: LedgerReport.Query) throws -> LedgerReport {
        try self.pool.read { db in try LedgerReportQuery(query).run(db) }
    }

    /// Runs `query` on GRDB's reader queue.
    public func report(_ query: LedgerReport.Query) async throws -> LedgerReport {
        try await self.pool.read { db in try LedgerReportQuery(query).run(db) }
    }
}

/// Builds and runs the SQL of one report.
///
/// Days: rows store only UTC milliseconds. A day's bounds are computed in Swift for the
/// report's zone (Foundation knows each zone's DST rules), and rows are assigned to days by
/// joining a `VALUES` list of `(day, start_ms, end_ms)`, one range scan of the time index per
/// day. So a 23- or 25-hour day is counted right, and the same ledger can be reported in any
/// zone, even after `time_zone` changes.
struct LedgerReportQuery {
    let query: LedgerReport.Query

    init(_ query: LedgerReport.Query) { self.query = query }

    func run(_ db: Database) throws -> LedgerReport {
        let zone = self.query.timeZone
        var lowerMs = self.query.from?.startMs(in: zone)
        var upperMs = self.query.to?.next.startMs(in: zone)
        var with = ""
        let source: String
        let groupExpression: String
        switch self.query.grouping {
        case .dimension(let dimension):
            source = "ledger_entry e"
            // Unary + keeps SQLite from walking the (dimension, time) index to get the groups
            // in order: that is one random table read per row, far slower than a scan and a
            // small sort. Filters still use those indexes.
            groupExpression = "+" + Self.qualified(dimension)
        case .day:
            guard let days = try self.days(db) else {
                return LedgerReport(query: self.query, rows: [], total: .init(group: nil))
            }
            // The days bound the rows. A constant range on time_ms as well would let SQLite
            // scan that whole range once per day instead of each day's own range.
            lowerMs = nil
            upperMs = nil
            let values = days.map { "('\($0.day)', \($0.startMs), \($0.endMs))" }.joined(separator: ", ")
            // CROSS JOIN keeps the days as the outer loop: each day is one index range.
            with = "WITH d(day, start_ms, end_ms) AS (VALUES \(values)) "
            source = "d CROSS JOIN ledger_entry e ON e.time_ms >= d.start_ms AND e.time_ms < d.end_ms"
            groupExpression = "d.day"
        }
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let lowerMs {
            conditions.append("e.time_ms >= ?")
            arguments += [lowerMs]
        }
        if let upperMs {
            conditions.append("e.time_ms < ?")
            arguments += [upperMs]
        }
        for (dimension, value) in self.query.filters.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            conditions.append("\(Self.qualified(dimension)) = ?")
            arguments += [value]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")

        let sums = """
            count(*) AS requests,
            coalesce(sum(e.http_status >= 400), 0) AS errors,
            coalesce(sum(e.cache_status IN ('exact', 'semantic')), 0) AS cache_hits,
            coalesce(sum(e.input_tokens), 0) AS input_tokens,
            coalesce(sum(e.cached_input_tokens), 0) AS cached_input_tokens,
            coalesce(sum(e.output_tokens), 0) AS output_tokens,
            coalesce(sum(e.cost_nanos), 0) AS cost_nanos,
            coalesce(sum(e.latency_ms), 0) AS latency_sum_ms
            """
        var rows = try Row.fetchAll(
            db, sql: "\(with)SELECT \(groupExpression) AS grp, \(sums) FROM \(source) \(whereClause) GROUP BY grp",
            arguments: arguments
        ).map { Self.reportRow($0, group: $0["grp"]) }
        let totalRow = try Row.fetchOne(db, sql: "\(with)SELECT \(sums) FROM \(source) \(whereClause)", arguments: arguments)
        var total = totalRow.map { Self.reportRow($0, group: nil) } ?? .init(group: nil)

        if self.query.includeP95 && total.requests > 0 {
            let p95 = try self.latencyP95(
                db, with: with, groupExpression: groupExpression, source: source, whereClause: whereClause, arguments: arguments
            )
            for index in rows.indices { rows[index].p95LatencyMs = p95.byGroup[rows[index].group] }
            total.p95LatencyMs = p95.total
        }

        switch self.query.grouping {
        case .day:
            rows.sort { ($0.group ?? "") < ($1.group ?? "") }
        case .dimension:
            rows.sort { a, b in
                if a.costNanodollars != b.costNanodollars { return a.costNanodollars > b.costNanodollars }
                if a.requests != b.requests { return a.requests > b.requests }
                switch (a.group, b.group) {
                case let (a?, b?): return a < b
                case (nil, _?): return false
                case (_?, nil): return true
                case (nil, nil): return false
                }
            }
        }
        return LedgerReport(query: self.query, rows: rows, total: total)
    }

    // MARK: - Private

    private struct DayRange {
        var day: LedgerDay
        var startMs: Int64
        var endMs: Int64
    }

    /// The days of the report with their bounds: from/to, or the days of the first and last
    /// rows. Nil when there is nothing to report.
    private func days(_ db: Database) throws -> [DayRange]? {
        let zone = self.query.timeZone
        var first = self.query.from
        var last = self.query.to
        if first == nil || last == nil {
            guard let bounds = try Row.fetchOne(db, sql: "SELECT min(time_ms) AS lo, max(time_ms) AS hi FROM ledger_entry"),
                let lo = bounds["lo"] as Int64?, let hi = bounds["hi"] as Int64?
            else { return nil }
            first = first ?? LedgerDay(containing: Date(timeIntervalSince1970: Double(lo) / 1000), in: zone)
            last = last ?? LedgerDay(containing: Date(timeIntervalSince1970: Double(hi) / 1000), in: zone)
        }
        guard let first, let last, first <= last else { return nil }
        var days: [DayRange] = []
        var day = first
        var start = day.startMs(in: zone)
        while day <= last {
            let next = day.next
            let end = next.startMs(in: zone)
            days.append(DayRange(day: day, startMs: start, endMs: end))
            day = next
            start = end
        }
        return days
    }

    /// Latencies to two significant digits, rounded down (exact below 100 ms): a histogram
    /// of a few hundred buckets per group, so p95 costs one aggregation pass and no sort of
    /// the rows.
    static let latencyBucket = """
        CASE WHEN e.latency_ms < 100 THEN e.latency_ms
             WHEN e.latency_ms < 1000 THEN e.latency_ms / 10 * 10
             WHEN e.latency_ms < 10000 THEN e.latency_ms / 100 * 100
             WHEN e.latency_ms < 100000 THEN e.latency_ms / 1000 * 1000
             WHEN e.latency_ms < 1000000 THEN e.latency_ms / 10000 * 10000
             ELSE e.latency_ms / 100000 * 100000 END
        """

    /// Nearest-rank p95 (the bucket holding rank ceil(0.95 n) in ascending order), per group
    /// and over all, from one histogram query.
    private func latencyP95(
        _ db: Database, with: String, groupExpression: String, source: String, whereClause: String, arguments: StatementArguments
    ) throws -> (byGroup: [String?: Int], total: Int?) {
        var histograms: [String?: [(bucket: Int, count: Int)]] = [:]
        var overall: [Int: Int] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            \(with)SELECT \(groupExpression) AS grp, \(Self.latencyBucket) AS bucket, count(*) AS n
            FROM \(source) \(whereClause) GROUP BY grp, bucket
            """, arguments: arguments)
        while let row = try rows.next() {
            let bucket: Int = row["bucket"]
            let count: Int = row["n"]
            histograms[row["grp"] as String?, default: []].append((bucket, count))
            overall[bucket, default: 0] += count
        }
        let byGroup = histograms.mapValues { Self.nearestRank95($0) ?? 0 }
        return (byGroup, Self.nearestRank95(overall.map { ($0.key, $0.value) }))
    }

    /// The bucket holding rank ceil(0.95 n).
    static func nearestRank95(_ histogram: [(bucket: Int, count: Int)]) -> Int? {
        let total = histogram.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        let rank = (total * 95 + 99) / 100
        var seen = 0
        for (bucket, count) in histogram.sorted(by: { $0.bucket < $1.bucket }) {
            seen += count
            if seen >= rank { return bucket }
        }
        return nil
    }

    /// The dimension's expression over the alias `e`.
    private static func qualified(_ dimension: LedgerReport.Dimension) -> String {
        switch dimension {
        case .model: "coalesce(e.served_model, e.requested_model)"
        default: "e." + dimension.column
        }
    }

    private static func reportRow(_ row: Row, group: String?) -> LedgerReport.Row {
        LedgerReport.Row(
            group: group,
            requests: row["requests"],
            errors: row["errors"],
            cacheHits: row["cache_hits"],
            inputTokens: row["input_tokens"],
            cachedInputTokens: row["cached_input_tokens"],
            outputTokens: row["output_tokens"],
            costNanodollars: row["cost_nanos"],
            latencySumMs: row["latency_sum_ms"]
        )
    }
}
