import Foundation
import GRDB

/// Requests, tokens, cost, latency and savings from the ledger, summed per period (day, week,
/// month), user, team, key, model, route, provider or tag, or per pair of these, over a range
/// of days. Aggregated in SQL; sums are exact integers.
public struct LedgerReport: Sendable, Equatable {
    /// A column a report can group or filter by.
    public enum Dimension: Sendable, Hashable {
        case user, team, key, model, route, provider
        /// The model or alias the client named (`model` is the one that answered).
        case requestedModel
        /// The value of one `X-Tollgate-Tag` name (lowercase letters, digits, `_`, `-`, `.`).
        case tag(String)

        /// The plain dimensions (every tag name is one more).
        public static let named: [Dimension] = [.user, .team, .key, .model, .requestedModel, .route, .provider]

        /// `user`, `team`, `key`, `model`, `route`, `provider` or `tag:NAME`.
        public init?(rawValue: String) {
            if rawValue.hasPrefix("tag:") {
                let name = rawValue.dropFirst(4).lowercased()
                guard !name.isEmpty, name.utf8.count <= RoutingTags.maxNameLength,
                    name.utf8.allSatisfy({ $0.isTagNameByte })
                else { return nil }
                self = .tag(name)
                return
            }
            guard let dimension = Self.named.first(where: { $0.rawValue == rawValue }) else { return nil }
            self = dimension
        }

        public var rawValue: String {
            switch self {
            case .user: "user"
            case .team: "team"
            case .key: "key"
            case .model: "model"
            case .route: "route"
            case .provider: "provider"
            case .requestedModel: "requested_model"
            case .tag(let name): "tag:" + name
            }
        }

        /// The SQL expression. `model` is the model that answered, or the one asked for when
        /// none did (requests rejected before reaching a provider). The ledger indexes
        /// `(expression, time_ms)` for user, team and key. A tag name is checked at
        /// `init(rawValue:)` (letters, digits, `_`, `-`, `.`), so it can be part of the SQL.
        var column: String {
            switch self {
            case .user: "user"
            case .team: "team"
            case .key: "key_id"
            case .model: "coalesce(served_model, requested_model)"
            case .route: "route"
            case .provider: "nullif(provider, '')"
            case .requestedModel: "requested_model"
            case .tag(let name): "json_extract(tags, '$.\"\(name)\"')"
            }
        }
    }

    /// The calendar periods a report can count in: days, weeks starting on Monday, months.
    public enum Period: String, Sendable, CaseIterable {
        case day, week, month

        /// The period holding `day`, named by its first day (`2025-03-03` for a week) or
        /// `YYYY-MM` for a month.
        func name(of day: LedgerDay) -> String {
            switch self {
            case .day: return day.description
            case .week: return day.weekStart.description
            case .month: return String(day.description.prefix(7))
            }
        }
    }

    /// What a report has one row per.
    public enum Grouping: Sendable, Hashable, RawRepresentable {
        /// Calendar periods in the report's time zone.
        case period(Period)
        case dimension(Dimension)

        public static let day = Grouping.period(.day)

        /// The groupings without tags, for help texts.
        public static let named: [Grouping] = Period.allCases.map(Grouping.period) + Dimension.named.map(Grouping.dimension)

        public init?(rawValue: String) {
            if let period = Period(rawValue: rawValue) {
                self = .period(period)
            } else if let dimension = Dimension(rawValue: rawValue) {
                self = .dimension(dimension)
            } else {
                return nil
            }
        }

        /// `day`, `week`, `month`, a dimension's name, or `tag:NAME`.
        public var rawValue: String {
            switch self {
            case .period(let period): period.rawValue
            case .dimension(let dimension): dimension.rawValue
            }
        }

        public var period: Period? {
            if case .period(let period) = self { return period }
            return nil
        }

        var isPeriod: Bool { self.period != nil }
    }

    /// Which report to make.
    public struct Query: Sendable, Equatable {
        /// One row per value of these, together (at most one period; one to three groupings).
        public var groupings: [Grouping]
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
        /// Show what cache hits and routing saved and what fallbacks and errors cost.
        public var savings: Bool

        public init(
            grouping: Grouping,
            thenBy more: [Grouping] = [],
            from: LedgerDay? = nil,
            to: LedgerDay? = nil,
            timeZone: TimeZone = .current,
            filters: [Dimension: String] = [:],
            includeP95: Bool = true,
            savings: Bool = false
        ) {
            self.groupings = [grouping] + more
            self.from = from
            self.to = to
            self.timeZone = timeZone
            self.filters = filters
            self.includeP95 = includeP95
            self.savings = savings
        }

        /// The first grouping.
        public var grouping: Grouping { self.groupings[0] }

        /// The groupings `--by` (comma-separated names) and `--period` ask for: the period
        /// replaces one named in `by`, or comes first when `by` has none.
        public static func groupings(by: String?, period: Period?) throws(LedgerReportRequestError) -> [Grouping] {
            var groupings: [Grouping] = []
            if let by {
                for name in by.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    guard let grouping = Grouping(rawValue: name) else {
                        let allowed = Grouping.named.map(\.rawValue).joined(separator: ", ")
                        throw LedgerReportRequestError(description: "by takes \(allowed) or tag:NAME, separated by commas (got '\(name)')")
                    }
                    groupings.append(grouping)
                }
            }
            if let period {
                if let index = groupings.firstIndex(where: \.isPeriod) {
                    groupings[index] = .period(period)
                } else {
                    groupings.insert(.period(period), at: 0)
                }
            }
            guard let first = groupings.first else { throw LedgerReportRequestError(description: "give by, period or both") }
            if let problem = Query(grouping: first, thenBy: Array(groupings.dropFirst())).problem {
                throw LedgerReportRequestError(description: "by: \(problem)")
            }
            return groupings
        }

        /// Why these groupings cannot make a report, or nil when they can.
        public var problem: String? {
            if self.groupings.isEmpty || self.groupings.count > 3 { return "group by one to three columns" }
            if self.groupings.filter(\.isPeriod).count > 1 { return "group by at most one period (day, week or month)" }
            if Set(self.groupings).count != self.groupings.count { return "a column appears twice" }
            return nil
        }
    }

    /// One group's sums.
    public struct Row: Sendable, Equatable {
        /// The values of the query's groupings, in order: the period's name, a user, team, key
        /// id, model, route, provider or tag value; nil for requests without one.
        public var groups: [String?]
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
        /// The median the same way (computed with p95; not a column of the command line's output).
        public var p50LatencyMs: Int?
        /// Requests answered by a fallback step (retry, smaller model, cache, template).
        public var fallbacks: Int
        /// What cache hits would have cost: the price the original answers were paid.
        public var cacheSavedNanodollars: Int64
        /// Answered requests not served by the cache or a fallback: the requested model's (or
        /// alias baseline's) list price for the same tokens less what the served model cost.
        /// Negative when routing chose a dearer model.
        public var routingSavedNanodollars: Int64
        /// Spent on attempts that failed before an answer came (retries, other models).
        public var fallbackCostNanodollars: Int64
        /// Spent on requests that ended in an error (broken streams, clients that left...).
        public var errorCostNanodollars: Int64

        public init(
            group: String?, groups more: [String?] = [], requests: Int = 0, errors: Int = 0, cacheHits: Int = 0, inputTokens: Int = 0,
            cachedInputTokens: Int = 0, outputTokens: Int = 0, costNanodollars: Int64 = 0, latencySumMs: Int = 0,
            p95LatencyMs: Int? = nil, p50LatencyMs: Int? = nil, fallbacks: Int = 0, cacheSavedNanodollars: Int64 = 0,
            routingSavedNanodollars: Int64 = 0, fallbackCostNanodollars: Int64 = 0, errorCostNanodollars: Int64 = 0
        ) {
            self.groups = [group] + more
            self.requests = requests
            self.errors = errors
            self.cacheHits = cacheHits
            self.inputTokens = inputTokens
            self.cachedInputTokens = cachedInputTokens
            self.outputTokens = outputTokens
            self.costNanodollars = costNanodollars
            self.latencySumMs = latencySumMs
            self.p95LatencyMs = p95LatencyMs
            self.p50LatencyMs = p50LatencyMs
            self.fallbacks = fallbacks
            self.cacheSavedNanodollars = cacheSavedNanodollars
            self.routingSavedNanodollars = routingSavedNanodollars
            self.fallbackCostNanodollars = fallbackCostNanodollars
            self.errorCostNanodollars = errorCostNanodollars
        }

        /// The first grouping's value.
        public var group: String? { self.groups.first ?? nil }

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

/// A report asked for with columns it cannot have.
public struct LedgerReportRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
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
        var source = "ledger_entry e"
        if let period = self.query.groupings.lazy.compactMap(\.period).first {
            guard let days = try self.days(db) else {
                return LedgerReport(query: self.query, rows: [], total: .init(group: nil))
            }
            // The days bound the rows. A constant range on time_ms as well would let SQLite
            // scan that whole range once per day instead of each day's own range.
            lowerMs = nil
            upperMs = nil
            let values = days.map { "('\(period.name(of: $0.day))', \($0.startMs), \($0.endMs))" }.joined(separator: ", ")
            // CROSS JOIN keeps the days as the outer loop: each day is one index range.
            with = "WITH d(period, start_ms, end_ms) AS (VALUES \(values)) "
            source = "d CROSS JOIN ledger_entry e ON e.time_ms >= d.start_ms AND e.time_ms < d.end_ms"
        }
        let groupExpressions = self.query.groupings.map { grouping in
            switch grouping {
            case .period: "d.period"
            // Unary + keeps SQLite from walking the (dimension, time) index to get the groups
            // in order: that is one random table read per row, far slower than a scan and a
            // small sort. Filters still use those indexes.
            case .dimension(let dimension): "+" + Self.qualified(dimension)
            }
        }
        let groupColumns = groupExpressions.enumerated().map { "\($1) AS g\($0)" }.joined(separator: ", ")
        let groupNames = groupExpressions.indices.map { "g\($0)" }.joined(separator: ", ")
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

        var rows = try Row.fetchAll(
            db, sql: "\(with)SELECT \(groupColumns), \(Self.sums) FROM \(source) \(whereClause) GROUP BY \(groupNames)",
            arguments: arguments
        ).map { row in Self.reportRow(row, groups: groupExpressions.indices.map { row["g\($0)"] }) }
        let totalRow = try Row.fetchOne(db, sql: "\(with)SELECT \(Self.sums) FROM \(source) \(whereClause)", arguments: arguments)
        var total = totalRow.map { Self.reportRow($0, groups: [nil]) } ?? .init(group: nil)

        if self.query.includeP95 && total.requests > 0 {
            let latency = try self.latencyPercentiles(
                db, with: with, groupColumns: groupColumns, groupNames: groupNames, columns: groupExpressions.count, source: source,
                whereClause: whereClause, arguments: arguments
            )
            for index in rows.indices {
                let percentiles = latency.byGroup[rows[index].groups]
                (rows[index].p50LatencyMs, rows[index].p95LatencyMs) = (percentiles?.p50, percentiles?.p95)
            }
            (total.p50LatencyMs, total.p95LatencyMs) = (latency.total?.p50, latency.total?.p95)
        }
        rows.sort(by: Self.order(self.query.groupings, rows: rows))
        return LedgerReport(query: self.query, rows: rows, total: total)
    }

    /// Every sum a report row has. Savings: see `LedgerReport.Row`.
    private static let sums = """
        count(*) AS requests,
        coalesce(sum(e.http_status >= 400), 0) AS errors,
        coalesce(sum(e.cache_status IN ('exact', 'semantic')), 0) AS cache_hits,
        coalesce(sum(e.input_tokens), 0) AS input_tokens,
        coalesce(sum(e.cached_input_tokens), 0) AS cached_input_tokens,
        coalesce(sum(e.output_tokens), 0) AS output_tokens,
        coalesce(sum(e.cost_nanos), 0) AS cost_nanos,
        coalesce(sum(e.latency_ms), 0) AS latency_sum_ms,
        coalesce(sum(e.fallback != 'none'), 0) AS fallbacks,
        coalesce(sum(e.cache_avoided_nanos), 0) AS cache_saved,
        coalesce(sum(CASE WHEN e.requested_cost_nanos IS NOT NULL AND e.cache_status = 'miss' AND e.fallback = 'none'
            AND e.http_status < 400 THEN e.requested_cost_nanos - e.cost_nanos END), 0) AS routing_saved,
        coalesce(sum(CASE WHEN e.http_status < 400 THEN e.failed_attempts_nanos END), 0) AS fallback_cost,
        coalesce(sum(CASE WHEN e.http_status >= 400 THEN e.cost_nanos END), 0) AS error_cost
        """

    /// Periods in time order; other columns by cost (then requests) descending, then name,
    /// a missing name last. With several columns, rows of one first value stay together,
    /// first values ordered by their sum over the rows.
    private static func order(_ groupings: [LedgerReport.Grouping], rows: [LedgerReport.Row]) -> (LedgerReport.Row, LedgerReport.Row) -> Bool {
        // For each column but the last, the cost and requests of each prefix of values.
        var prefixTotals: [[String?]: (cost: Int64, requests: Int)] = [:]
        for row in rows {
            for length in 1..<max(1, groupings.count) {
                let prefix = Array(row.groups.prefix(length))
                let sum = prefixTotals[prefix] ?? (0, 0)
                prefixTotals[prefix] = (sum.cost + row.costNanodollars, sum.requests + row.requests)
            }
        }
        return { a, b in
            for column in groupings.indices {
                let (x, y) = (a.groups[column], b.groups[column])
                if x == y { continue }
                if groupings[column].isPeriod { return (x ?? "") < (y ?? "") }
                let last = column == groupings.count - 1
                let sumA = last ? (a.costNanodollars, a.requests) : prefixTotals[Array(a.groups.prefix(column + 1))] ?? (0, 0)
                let sumB = last ? (b.costNanodollars, b.requests) : prefixTotals[Array(b.groups.prefix(column + 1))] ?? (0, 0)
                if sumA.0 != sumB.0 { return sumA.0 > sumB.0 }
                if sumA.1 != sumB.1 { return sumA.1 > sumB.1 }
                switch (x, y) {
                case let (x?, y?): return x < y
                case (nil, _?): return false
                case (_?, nil): return true
                case (nil, nil): return false
                }
            }
            return false
        }
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

    /// Nearest-rank p50 and p95 (the buckets holding ranks ceil(0.5 n) and ceil(0.95 n) in
    /// ascending order), per group and over all, from one histogram query.
    private func latencyPercentiles(
        _ db: Database, with: String, groupColumns: String, groupNames: String, columns: Int, source: String, whereClause: String,
        arguments: StatementArguments
    ) throws -> (byGroup: [[String?]: (p50: Int, p95: Int)], total: (p50: Int, p95: Int)?) {
        var histograms: [[String?]: [(bucket: Int, count: Int)]] = [:]
        var overall: [Int: Int] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            \(with)SELECT \(groupColumns), \(Self.latencyBucket) AS bucket, count(*) AS n
            FROM \(source) \(whereClause) GROUP BY \(groupNames), bucket
            """, arguments: arguments)
        while let row = try rows.next() {
            let bucket: Int = row["bucket"]
            let count: Int = row["n"]
            let groups: [String?] = (0..<columns).map { row["g\($0)"] }
            histograms[groups, default: []].append((bucket, count))
            overall[bucket, default: 0] += count
        }
        func percentiles(_ histogram: [(bucket: Int, count: Int)]) -> (p50: Int, p95: Int)? {
            guard let p95 = Self.nearestRank(95, histogram), let p50 = Self.nearestRank(50, histogram) else { return nil }
            return (p50, p95)
        }
        let byGroup = histograms.mapValues { percentiles($0) ?? (0, 0) }
        return (byGroup, percentiles(overall.map { ($0.key, $0.value) }))
    }

    /// The bucket holding rank ceil(percent / 100 * n).
    static func nearestRank(_ percent: Int, _ histogram: [(bucket: Int, count: Int)]) -> Int? {
        let total = histogram.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        let rank = (total * percent + 99) / 100
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
        case .provider: "nullif(e.provider, '')"
        case .tag(let name): "json_extract(e.tags, '$.\"\(name)\"')"
        default: "e." + dimension.column
        }
    }

    private static func reportRow(_ row: Row, groups: [String?]) -> LedgerReport.Row {
        var report = LedgerReport.Row(
            group: nil,
            requests: row["requests"],
            errors: row["errors"],
            cacheHits: row["cache_hits"],
            inputTokens: row["input_tokens"],
            cachedInputTokens: row["cached_input_tokens"],
            outputTokens: row["output_tokens"],
            costNanodollars: row["cost_nanos"],
            latencySumMs: row["latency_sum_ms"],
            fallbacks: row["fallbacks"],
            cacheSavedNanodollars: row["cache_saved"],
            routingSavedNanodollars: row["routing_saved"],
            fallbackCostNanodollars: row["fallback_cost"],
            errorCostNanodollars: row["error_cost"]
        )
        report.groups = groups
        return report
    }
}
