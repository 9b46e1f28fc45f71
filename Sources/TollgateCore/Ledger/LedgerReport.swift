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
        try self.pool.read { db in try LedgerReportQuery(query, dialect: .sqlite).run { try Self.fetch($0, in: db) } }
    }

    /// Runs `query` on GRDB's reader queue, in one read transaction.
    public func report(_ query: LedgerReport.Query) async throws -> LedgerReport {
        try await self.pool.read { db in try LedgerReportQuery(query, dialect: .sqlite).run { try Self.fetch($0, in: db) } }
    }
}

/// Builds the SQL of one report and assembles the report from what it returns. The backend
/// runs the statements (`run`), all in one read transaction, so the rows and the total agree.
///
/// Days: rows store only UTC milliseconds. A day's bounds are computed in Swift for the
/// report's zone (Foundation knows each zone's DST rules), and rows are assigned to days by
/// joining a `VALUES` list of `(day, start_ms, end_ms)`, one range scan of the time index per
/// day. So a 23- or 25-hour day is counted right, and the same ledger can be reported in any
/// zone, even after `time_zone` changes. SQLite and PostgreSQL get the same SQL but for the
/// few spellings `LedgerSQLDialect` holds, and the same sums come back as 64-bit integers.
struct LedgerReportQuery {
    let query: LedgerReport.Query
    let dialect: LedgerSQLDialect

    init(_ query: LedgerReport.Query, dialect: LedgerSQLDialect) {
        self.query = query
        self.dialect = dialect
    }

    /// The statements of one report.
    struct Plan {
        var rows: LedgerStatement
        var total: LedgerStatement
        var latency: LedgerStatement?
        var columns: Int
    }

    /// Runs the report with `fetch`, which returns a statement's rows as values in column order.
    func run(_ fetch: (LedgerStatement) throws -> [[LedgerValue]]) throws -> LedgerReport {
        let bounds = try self.boundsStatement.map { try Self.bounds(fetch($0)) }
        guard let plan = self.plan(bounds: bounds) else { return self.empty }
        return try self.assemble(plan, rows: fetch(plan.rows), total: fetch(plan.total), latency: plan.latency.map(fetch))
    }

    /// `run` for backends that answer asynchronously.
    func run(_ fetch: (LedgerStatement) async throws -> [[LedgerValue]]) async throws -> LedgerReport {
        var bounds: (lo: Int64, hi: Int64)??
        if let statement = self.boundsStatement { bounds = try Self.bounds(await fetch(statement)) }
        guard let plan = self.plan(bounds: bounds) else { return self.empty }
        let rows = try await fetch(plan.rows)
        let total = try await fetch(plan.total)
        var latency: [[LedgerValue]]?
        if let statement = plan.latency { latency = try await fetch(statement) }
        return try self.assemble(plan, rows: rows, total: total, latency: latency)
    }

    private var empty: LedgerReport { LedgerReport(query: self.query, rows: [], total: .init(group: nil)) }

    /// The first and last row's times, needed when a period grouping has an open end.
    var boundsStatement: LedgerStatement? {
        guard self.query.groupings.contains(where: \.isPeriod), self.query.from == nil || self.query.to == nil else { return nil }
        return LedgerStatement(sql: "SELECT min(time_ms), max(time_ms) FROM ledger_entry", arguments: [])
    }

    private static func bounds(_ rows: [[LedgerValue]]) -> (lo: Int64, hi: Int64)? {
        guard let row = rows.first, row.count == 2, let lo = row[0].int, let hi = row[1].int else { return nil }
        return (lo, hi)
    }

    /// The statements, given the ledger's first and last times when `boundsStatement` asked
    /// for them (`.some(nil)`: the ledger is empty). Nil when there is nothing to report.
    func plan(bounds: (lo: Int64, hi: Int64)??) -> Plan? {
        let zone = self.query.timeZone
        var lowerMs = self.query.from?.startMs(in: zone)
        var upperMs = self.query.to?.next.startMs(in: zone)
        var with = ""
        var source = "ledger_entry e"
        if let period = self.query.groupings.lazy.compactMap(\.period).first {
            guard let days = self.days(bounds: bounds ?? nil) else { return nil }
            // The days bound the rows. A constant range on time_ms as well would let SQLite
            // scan that whole range once per day instead of each day's own range.
            lowerMs = nil
            upperMs = nil
            let values = days.map { "('\(period.name(of: $0.day))', \($0.startMs), \($0.endMs))" }.joined(separator: ", ")
            with = "WITH d(period, start_ms, end_ms) AS (VALUES \(values)) "
            source = "d \(self.dialect.dayJoin) ledger_entry e ON e.time_ms >= d.start_ms AND e.time_ms < d.end_ms"
        }
        let groupExpressions = self.query.groupings.map { grouping in
            switch grouping {
            case .period: "d.period"
            case .dimension(let dimension): self.dialect.groupPrefix + self.dialect.column(dimension)
            }
        }
        let groupColumns = groupExpressions.enumerated().map { "\($1) AS g\($0)" }.joined(separator: ", ")
        let groupNames = groupExpressions.indices.map { "g\($0)" }.joined(separator: ", ")
        var conditions: [String] = []
        var arguments: [LedgerValue] = []
        if let lowerMs {
            conditions.append("e.time_ms >= ?")
            arguments.append(.int(lowerMs))
        }
        if let upperMs {
            conditions.append("e.time_ms < ?")
            arguments.append(.int(upperMs))
        }
        for (dimension, value) in self.query.filters.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            conditions.append("\(self.dialect.column(dimension)) = ?")
            arguments.append(.text(value))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        func statement(_ sql: String) -> LedgerStatement {
            LedgerStatement(sql: self.dialect.numberingParameters(sql), arguments: arguments)
        }
        return Plan(
            rows: statement("\(with)SELECT \(groupColumns), \(Self.sums) FROM \(source) \(whereClause) GROUP BY \(groupNames)"),
            total: statement("\(with)SELECT \(Self.sums) FROM \(source) \(whereClause)"),
            latency: self.query.includeP95
                ? statement("""
                    \(with)SELECT \(groupColumns), \(Self.latencyBucket) AS bucket, count(*) AS n
                    FROM \(source) \(whereClause) GROUP BY \(groupNames), bucket
                    """)
                : nil,
            columns: groupExpressions.count
        )
    }

    /// The report from the plan's results.
    func assemble(_ plan: Plan, rows: [[LedgerValue]], total: [[LedgerValue]], latency: [[LedgerValue]]?) throws -> LedgerReport {
        var reportRows = try rows.map { values in
            try Self.reportRow(values.dropFirst(plan.columns), groups: values.prefix(plan.columns).map(\.text))
        }
        var totalRow = try total.first.map { try Self.reportRow($0[...], groups: [nil]) } ?? .init(group: nil)
        if let latency, totalRow.requests > 0 {
            let percentiles = try Self.latencyPercentiles(latency, columns: plan.columns)
            for index in reportRows.indices {
                let found = percentiles.byGroup[reportRows[index].groups]
                (reportRows[index].p50LatencyMs, reportRows[index].p95LatencyMs) = (found?.p50, found?.p95)
            }
            (totalRow.p50LatencyMs, totalRow.p95LatencyMs) = (percentiles.total?.p50, percentiles.total?.p95)
        }
        reportRows.sort(by: Self.order(self.query.groupings, rows: reportRows))
        return LedgerReport(query: self.query, rows: reportRows, total: totalRow)
    }

    /// Every sum a report row has, in the order `reportRow` reads them. Savings: see
    /// `LedgerReport.Row`. Conditions are counted with CASE and sums cast to BIGINT, so both
    /// backends return 64-bit integers (PostgreSQL sums BIGINTs as NUMERIC).
    private static let sums = [
        "count(*)",
        "sum(CASE WHEN e.http_status >= 400 THEN 1 ELSE 0 END)",
        "sum(CASE WHEN e.cache_status IN ('exact', 'semantic') THEN 1 ELSE 0 END)",
        "sum(e.input_tokens)",
        "sum(e.cached_input_tokens)",
        "sum(e.output_tokens)",
        "sum(e.cost_nanos)",
        "sum(e.latency_ms)",
        "sum(CASE WHEN e.fallback != 'none' THEN 1 ELSE 0 END)",
        "sum(e.cache_avoided_nanos)",
        """
        sum(CASE WHEN e.requested_cost_nanos IS NOT NULL AND e.cache_status = 'miss' AND e.fallback = 'none'
            AND e.http_status < 400 THEN e.requested_cost_nanos - e.cost_nanos END)
        """,
        "sum(CASE WHEN e.http_status < 400 THEN e.failed_attempts_nanos END)",
        "sum(CASE WHEN e.http_status >= 400 THEN e.cost_nanos END)",
    ].map { "CAST(coalesce(\($0), 0) AS BIGINT)" }.joined(separator: ", ")

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
    /// rows (`bounds`). Nil when there is nothing to report.
    private func days(bounds: (lo: Int64, hi: Int64)?) -> [DayRange]? {
        let zone = self.query.timeZone
        var first = self.query.from
        var last = self.query.to
        if first == nil || last == nil {
            guard let bounds else { return nil }
            first = first ?? LedgerDay(containing: Date(timeIntervalSince1970: Double(bounds.lo) / 1000), in: zone)
            last = last ?? LedgerDay(containing: Date(timeIntervalSince1970: Double(bounds.hi) / 1000), in: zone)
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
    /// ascending order), per group and over all, from the histogram rows (groups, bucket, count).
    private static func latencyPercentiles(
        _ rows: [[LedgerValue]], columns: Int
    ) throws -> (byGroup: [[String?]: (p50: Int, p95: Int)], total: (p50: Int, p95: Int)?) {
        var histograms: [[String?]: [(bucket: Int, count: Int)]] = [:]
        var overall: [Int: Int] = [:]
        for row in rows {
            guard row.count == columns + 2, let bucket = row[columns].int, let count = row[columns + 1].int else {
                throw LedgerValue.Unexpected(what: "a latency histogram row")
            }
            let groups = row.prefix(columns).map(\.text)
            histograms[groups, default: []].append((Int(bucket), Int(count)))
            overall[Int(bucket), default: 0] += Int(count)
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

    private static func reportRow(_ values: ArraySlice<LedgerValue>, groups: [String?]) throws -> LedgerReport.Row {
        let numbers = values.map { $0.int ?? 0 }
        guard numbers.count == 13 else { throw LedgerValue.Unexpected(what: "a report row of 13 sums") }
        var report = LedgerReport.Row(
            group: nil,
            requests: Int(numbers[0]),
            errors: Int(numbers[1]),
            cacheHits: Int(numbers[2]),
            inputTokens: Int(numbers[3]),
            cachedInputTokens: Int(numbers[4]),
            outputTokens: Int(numbers[5]),
            costNanodollars: numbers[6],
            latencySumMs: Int(numbers[7]),
            fallbacks: Int(numbers[8]),
            cacheSavedNanodollars: numbers[9],
            routingSavedNanodollars: numbers[10],
            fallbackCostNanodollars: numbers[11],
            errorCostNanodollars: numbers[12]
        )
        report.groups = groups
        return report
    }
}
