import Foundation
import PostgresNIO

extension PostgresLedger: LedgerStore {
    public func report(_ query: LedgerReport.Query) async throws -> LedgerReport {
        let logger = self.logger
        return try await self.client.withTransaction(logger: logger) { connection in
            // One snapshot for every statement of the report, as SQLite's read transaction.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            return try await LedgerReportQuery(query, dialect: .postgres).run { statement in
                try await Self.fetch(statement, on: connection, logger: logger)
            }
        }
    }

    /// Rows still in this process's spill file count too: a replica restarted during an outage
    /// would otherwise start its budgets without them. The spill file is read first: a batch
    /// shipped between the two reads is then counted twice (a budget closes early), never
    /// missed (one overspends).
    public func spend(sinceMs: Int64) async throws -> [LedgerSpend] {
        let spilled = try await self.spillFile.spend(sinceMs: sinceMs)
        return try await self.storedSpend(sinceMs: sinceMs) + spilled
    }

    private func storedSpend(sinceMs: Int64) async throws -> [LedgerSpend] {
        let rows = try await self.client.query(
            """
            SELECT key_id, team, "user", CAST(sum(cost_nanos) AS BIGINT) FROM ledger_entry WHERE time_ms >= \(sinceMs)
            GROUP BY key_id, team, "user"
            """,
            logger: self.logger
        )
        var result: [LedgerSpend] = []
        for try await (key, team, user, cost) in rows.decode((String?, String?, String?, Int64?).self) {
            result.append((key, team, user, USD(nanos: cost ?? 0)))
        }
        return result
    }

    public func recentSpend(sinceMs: Int64, splitMs: Int64) async throws -> [LedgerRecentSpend] {
        let rows = try await self.client.query(
            """
            SELECT key_id, team, CAST(coalesce(sum(CASE WHEN time_ms >= \(splitMs) THEN cost_nanos END), 0) AS BIGINT),
            CAST(coalesce(sum(CASE WHEN time_ms < \(splitMs) THEN cost_nanos END), 0) AS BIGINT)
            FROM ledger_entry WHERE time_ms >= \(sinceMs) GROUP BY key_id, team
            """,
            logger: self.logger
        )
        var result: [LedgerRecentSpend] = []
        for try await (key, team, recent, before) in rows.decode((String?, String?, Int64, Int64).self) {
            result.append((key, team, USD(nanos: recent), USD(nanos: before)))
        }
        return result
    }

    public func rowCount() async throws -> Int {
        let rows = try await self.client.query("SELECT count(*) FROM ledger_entry", logger: self.logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    public func ping() async throws {
        try await self.client.query("SELECT 1", logger: self.logger)
    }

    public func forEachEntry(fromMs: Int64?, toMs: Int64?, limit: Int?, _ body: (LedgerEntry) throws -> Void) async throws {
        var sql = "SELECT \(Self.entryColumns) FROM ledger_entry WHERE time_ms >= $1 AND time_ms < $2 ORDER BY time_ms, id"
        if let limit { sql += " LIMIT \(max(0, limit))" }
        var bindings = PostgresBindings()
        bindings.append(fromMs ?? .min)
        bindings.append(toMs ?? .max)
        let rows = try await self.client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
        for try await row in rows { try body(Self.entry(from: row)) }
    }

    // MARK: - Rows

    /// A statement's rows as values in column order: integers (any width) and text.
    static func fetch(_ statement: LedgerStatement, on connection: PostgresConnection, logger: Logger) async throws -> [[LedgerValue]] {
        var bindings = PostgresBindings(capacity: statement.arguments.count)
        for argument in statement.arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .int(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            }
        }
        var result: [[LedgerValue]] = []
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: statement.sql, binds: bindings), logger: logger) {
            result.append(try row.map(Self.value))
        }
        return result
    }

    private static func value(_ cell: PostgresCell) throws -> LedgerValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .numeric:
            let text = try cell.decode(String.self)
            guard let number = Int64(text) else { throw LedgerValue.Unexpected(what: "an integer (got \(text))") }
            return .int(number)
        default: return .text(try cell.decode(String.self))
        }
    }

    static let entryColumns = """
        time_ms, request_id, key_id, team, "user", route, requested_model, served_model, provider, input_tokens,
        cached_input_tokens, output_tokens, cost_nanos, cache_status, cache_avoided_nanos, requested_cost_nanos,
        failed_attempts_nanos, fallback, attempts, attempt_errors, truncated, http_status, error_code, stream, latency_ms,
        upstream_latency_ms, ttft_ms, features, tags, prompt_text, response_text
        """

    private static func entry(from row: PostgresRow) throws -> LedgerEntry {
        let columns = row.makeRandomAccess()
        func int(_ index: Int) throws -> Int64 { try columns[index].decode(Int64.self) }
        func optionalInt(_ index: Int) throws -> Int64? { try columns[index].decode(Int64?.self) }
        func text(_ index: Int) throws -> String? { try columns[index].decode(String?.self) }
        return LedgerEntry(
            timeMs: try int(0), requestID: try text(1) ?? "", keyID: try text(2), team: try text(3), user: try text(4),
            route: try text(5), requestedModel: try text(6), servedModel: try text(7), provider: try text(8),
            inputTokens: Int(try int(9)), cachedInputTokens: Int(try int(10)), outputTokens: Int(try int(11)),
            costNanodollars: try int(12), cacheStatus: LedgerEntry.CacheStatus(rawValue: try text(13) ?? "") ?? .miss,
            cacheAvoidedNanodollars: try int(14), requestedCostNanodollars: try optionalInt(15),
            failedAttemptsNanodollars: try int(16), fallback: LedgerEntry.Fallback(rawValue: try text(17) ?? "") ?? .none,
            attempts: Int(try int(18)), attemptErrors: try text(19), truncated: try int(20) != 0, httpStatus: Int(try int(21)),
            errorCode: try text(22), stream: try int(23) != 0, latencyMs: Int(try int(24)),
            upstreamLatencyMs: try optionalInt(25).map(Int.init), timeToFirstTokenMs: try optionalInt(26).map(Int.init),
            featuresJSON: try text(27), tagsJSON: try text(28), promptText: try text(29), responseText: try text(30)
        )
    }
}
