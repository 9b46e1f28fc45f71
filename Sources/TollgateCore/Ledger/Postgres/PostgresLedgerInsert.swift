import Foundation
import Logging
import PostgresNIO

/// Ledger rows to PostgreSQL: multi-row INSERTs of at most `rowsPerStatement` rows (bound
/// parameters, 32 a row, under the protocol's 65,535), all in one transaction.
/// `ON CONFLICT (entry_uid) DO NOTHING` makes a batch written again a no-op.
enum PostgresLedgerInsert {
    static let columns = """
        time_ms, request_id, key_id, team, "user", route, requested_model, served_model, provider, input_tokens,
        cached_input_tokens, output_tokens, cost_nanos, cache_status, fallback, attempt_errors, http_status, error_code,
        stream, latency_ms, upstream_latency_ms, ttft_ms, attempts, truncated, features, prompt_text, response_text,
        cache_avoided_nanos, requested_cost_nanos, failed_attempts_nanos, tags, entry_uid
        """
    static let columnsPerRow = 32
    static let rowsPerStatement = 1_000

    static func insert(_ rows: LedgerRows, uids: (Int) -> String, client: PostgresClient, logger: Logger) async throws {
        let statements = Self.statements(rows, uids: uids)
        guard !statements.isEmpty else { return }
        try await client.withTransaction(logger: logger) { connection in
            for statement in statements { try await connection.query(statement, logger: logger) }
        }
    }

    /// The INSERTs for `rows`, the `i`th row with the uid `uids(i)`.
    static func statements(_ rows: LedgerRows, uids: (Int) -> String) -> [PostgresQuery] {
        var statements: [PostgresQuery] = []
        var bindings = PostgresBindings()
        var inStatement = 0
        var index = 0
        func flush() {
            guard inStatement > 0 else { return }
            statements.append(PostgresQuery(unsafeSQL: Self.sql(rows: inStatement), binds: bindings))
            bindings = PostgresBindings()
            inStatement = 0
        }
        rows.forEach { row in
            let numbers = row.numbers()
            bindings.append(numbers.timeMs)
            for _ in 0..<8 { bindings.append(Self.text(row.text())) }  // request id ... provider
            bindings.append(numbers.inputTokens)
            bindings.append(numbers.cachedInputTokens)
            bindings.append(numbers.outputTokens)
            bindings.append(numbers.costNanodollars)
            for _ in 0..<3 { bindings.append(Self.text(row.text())) }  // cache status, fallback, attempt errors
            bindings.append(numbers.httpStatus)
            bindings.append(Self.text(row.text()))  // error code
            bindings.append(Int64(numbers.stream ? 1 : 0))
            bindings.append(numbers.latencyMs)
            bindings.append(numbers.upstreamLatencyMs)
            bindings.append(numbers.timeToFirstTokenMs)
            bindings.append(numbers.attempts)
            bindings.append(Int64(numbers.truncated ? 1 : 0))
            for _ in 0..<3 { bindings.append(Self.text(row.text())) }  // features, prompt, response
            bindings.append(numbers.cacheAvoidedNanodollars)
            bindings.append(numbers.requestedCostNanodollars)
            bindings.append(numbers.failedAttemptsNanodollars)
            bindings.append(Self.text(row.text()))  // tags
            bindings.append(uids(index))
            index += 1
            inStatement += 1
            if inStatement == Self.rowsPerStatement { flush() }
        }
        flush()
        return statements
    }

    /// `INSERT ... VALUES ($1, ..., $32), ($33, ...)` for `rows` rows.
    static func sql(rows: Int) -> String {
        var sql = "INSERT INTO ledger_entry (\(Self.columns)) VALUES "
        var parameter = 0
        for row in 0..<rows {
            sql += row == 0 ? "(" : ", ("
            for column in 0..<Self.columnsPerRow {
                parameter += 1
                sql += column == 0 ? "$\(parameter)" : ", $\(parameter)"
            }
            sql += ")"
        }
        return sql + " ON CONFLICT (entry_uid) DO NOTHING"
    }

    /// A row's text as PostgreSQL takes it: TEXT cannot hold a NUL byte (SQLite can), so one
    /// becomes U+FFFD rather than failing the whole batch forever.
    static func text(_ bytes: UnsafeRawBufferPointer?) -> String? {
        guard let bytes else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        return bytes.contains(0) ? text.replacingOccurrences(of: "\0", with: "\u{FFFD}") : text
    }
}
