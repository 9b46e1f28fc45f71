import Foundation
import GRDB
import GRDBSQLite

/// The request ledger's SQLite file, in WAL mode: one writer (the `LedgerWriter`) and any
/// number of readers (reports, the admin API, the CLI), in the same or other processes.
///
/// Durability: GRDB opens WAL files with `synchronous = NORMAL`, so a committed batch
/// survives the process being killed (the WAL is in the OS's page cache) and commits make no
/// fsync; a power failure may lose the commits since the last checkpoint (at most a second
/// or so, see `LedgerCheckpointer`).
public final class LedgerDatabase: Sendable {
    /// The SQLite file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed, with its directory) the ledger at `path` and brings its
    /// schema up to date.
    public init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        SQLiteRuntime.prepare()
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "tollgate.ledger"
        configuration.prepareDatabase { db in
            // Index pages stay in memory between batches.
            try db.execute(sql: "PRAGMA cache_size = -16384")
            // The writer's `LedgerCheckpointer` checkpoints on its own connection, so commits
            // never wait for a checkpoint's fsyncs; this is only the backstop (400 MB of WAL).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 100000")
        }
        self.path = path
        self.pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(self.pool)
    }

    /// Opens the ledger at `path` if the file exists; nil when nothing was ever recorded there.
    public static func openIfPresent(path: String) throws -> LedgerDatabase? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try LedgerDatabase(path: path)
    }

    // MARK: - Schema

    /// Reports filter on a time range and group by one column, or filter on one column and a
    /// time range (spend of a key, team or user this month, the dashboard's drill-downs). So:
    /// `time_ms` alone for the range every report starts from (one range per day for daily
    /// reports), and `(column, time_ms)` for the subjects spend is asked about (key, team,
    /// user), which answers "this key between these days" from one index range. Grouping
    /// itself is a scan of the time range and a small sort (see `LedgerReportQuery`). Each
    /// index costs the writer CPU on every row, on the gateway's cores (bench/costs).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-ledger") { db in
            try db.execute(sql: """
                CREATE TABLE ledger_entry (
                    id INTEGER PRIMARY KEY,
                    time_ms INTEGER NOT NULL,
                    request_id TEXT NOT NULL,
                    key_id TEXT,
                    team TEXT,
                    user TEXT,
                    route TEXT,
                    requested_model TEXT,
                    served_model TEXT,
                    provider TEXT,
                    input_tokens INTEGER NOT NULL DEFAULT 0,
                    cached_input_tokens INTEGER NOT NULL DEFAULT 0,
                    output_tokens INTEGER NOT NULL DEFAULT 0,
                    cost_nanos INTEGER NOT NULL DEFAULT 0,
                    cache_status TEXT NOT NULL DEFAULT 'miss',
                    fallback TEXT NOT NULL DEFAULT 'none',
                    http_status INTEGER NOT NULL,
                    error_code TEXT,
                    stream INTEGER NOT NULL DEFAULT 0,
                    latency_ms INTEGER NOT NULL,
                    upstream_latency_ms INTEGER,
                    ttft_ms INTEGER,
                    features TEXT,
                    prompt_text TEXT,
                    response_text TEXT
                );
                CREATE INDEX ledger_entry_time ON ledger_entry (time_ms);
                CREATE INDEX ledger_entry_key_time ON ledger_entry (key_id, time_ms);
                CREATE INDEX ledger_entry_team_time ON ledger_entry (team, time_ms);
                CREATE INDEX ledger_entry_user_time ON ledger_entry (user, time_ms);
                CREATE INDEX ledger_entry_model_time ON ledger_entry (coalesce(served_model, requested_model), time_ms);
                CREATE INDEX ledger_entry_route_time ON ledger_entry (route, time_ms);
                """)
        }
        // Grouping by model or route reads every row of the time range anyway, so those two
        // indexes only slowed the writer (each row updated seven b-trees, on the gateway's CPU).
        migrator.registerMigration("v2-fewer-indexes") { db in
            try db.execute(sql: "DROP INDEX IF EXISTS ledger_entry_model_time; DROP INDEX IF EXISTS ledger_entry_route_time")
        }
        // The fallback chain walked: rows written before it were single attempts.
        migrator.registerMigration("v3-fallback-chain") { db in
            try db.execute(sql: """
                ALTER TABLE ledger_entry ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE ledger_entry ADD COLUMN attempt_errors TEXT;
                ALTER TABLE ledger_entry ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
                """)
        }
        // What each cache hit saved: the original answer's cost. Earlier rows saved nothing.
        migrator.registerMigration("v4-cache-savings") { db in
            try db.execute(sql: "ALTER TABLE ledger_entry ADD COLUMN cache_avoided_nanos INTEGER NOT NULL DEFAULT 0")
        }
        // Savings and tags for reports. Earlier rows: no known routing savings (NULL), no
        // failed-attempt spend recorded apart, no tags.
        migrator.registerMigration("v5-savings-and-tags") { db in
            try db.execute(sql: """
                ALTER TABLE ledger_entry ADD COLUMN requested_cost_nanos INTEGER;
                ALTER TABLE ledger_entry ADD COLUMN failed_attempts_nanos INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE ledger_entry ADD COLUMN tags TEXT;
                """)
        }
        // The row's identity in PostgreSQL, for rows a PostgreSQL ledger spilled to this file.
        migrator.registerMigration("v6-entry-uid") { db in
            try db.execute(sql: "ALTER TABLE ledger_entry ADD COLUMN entry_uid TEXT")
        }
        return migrator
    }

    // MARK: - Writing

    static let insertSQL = """
        INSERT INTO ledger_entry (
            time_ms, request_id, key_id, team, user, route, requested_model, served_model, provider,
            input_tokens, cached_input_tokens, output_tokens, cost_nanos, cache_status, fallback,
            attempt_errors, http_status, error_code, stream, latency_ms, upstream_latency_ms, ttft_ms,
            attempts, truncated, features, prompt_text, response_text, cache_avoided_nanos,
            requested_cost_nanos, failed_attempts_nanos, tags
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Inserts `rows` with the caller's transaction.
    ///
    /// The writer's CPU is the gateway's CPU, so rows are bound straight to the prepared
    /// SQLite statement (cached on the connection): GRDB's `StatementArguments` box every
    /// value in an existential, a tenth or more of the writer's time (bench/RESULTS.md,
    /// "Ledger writer"). Text is bound in place from the rows' buffer (`SQLITE_STATIC`):
    /// SQLite reads bound values only while the statement is stepped, each row binds every
    /// parameter again, and the bindings are cleared before the buffer can go. Otherwise
    /// SQLite would copy each string, a `malloc` and a `free` per string and row (Debian's
    /// SQLite has no lookaside allocator).
    ///
    /// Tried and left: several rows per `INSERT`. It kept SQLite's cursors open across rows,
    /// which helped rows of one key and user, but slowed rows of many (bench/RESULTS.md).
    static func insert(_ rows: LedgerRows, uids: ((Int) -> String)? = nil, in db: Database) throws {
        let sql = uids == nil ? Self.insertSQL : Self.spillSQL
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        var index = 0
        defer { sqlite3_clear_bindings(statement) }
        try rows.forEach { row in
            var binder = ParameterBinder(statement)
            let numbers = row.numbers()
            binder.bind(numbers.timeMs)
            binder.bind(row.text())  // request id
            binder.bind(row.text())  // key id
            binder.bind(row.text())  // team
            binder.bind(row.text())  // user
            binder.bind(row.text())  // route
            binder.bind(row.text())  // requested model
            binder.bind(row.text())  // served model
            binder.bind(row.text())  // provider
            binder.bind(numbers.inputTokens)
            binder.bind(numbers.cachedInputTokens)
            binder.bind(numbers.outputTokens)
            binder.bind(numbers.costNanodollars)
            binder.bind(row.text())  // cache status
            binder.bind(row.text())  // fallback
            binder.bind(row.text())  // attempt errors
            binder.bind(numbers.httpStatus)
            binder.bind(row.text())  // error code
            binder.bind(numbers.stream ? 1 : 0)
            binder.bind(numbers.latencyMs)
            binder.bind(numbers.upstreamLatencyMs)
            binder.bind(numbers.timeToFirstTokenMs)
            binder.bind(numbers.attempts)
            binder.bind(numbers.truncated ? 1 : 0)
            binder.bind(row.text())  // features
            binder.bind(row.text())  // prompt text (nil unless stored)
            binder.bind(row.text())  // response text
            binder.bind(numbers.cacheAvoidedNanodollars)
            binder.bind(numbers.requestedCostNanodollars)
            binder.bind(numbers.failedAttemptsNanodollars)
            binder.bind(row.text())  // tags
            if let uids {
                let uid = uids(index)
                // Bound before the step that reads it, and cleared by the reset after it.
                binder.bindCopy(uid)
            }
            index += 1
            let stepped = sqlite3_step(statement)
            sqlite3_reset(statement)
            guard stepped == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: stepped), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
        }
    }

    /// Inserts `entries` with the caller's transaction; prompt and response text only with `storeText`.
    static func insert(_ entries: some Sequence<LedgerEntry>, storeText: Bool, in db: Database) throws {
        try Self.insert(LedgerRows(entries, storeText: storeText), in: db)
    }

    /// Writes `rows` in one transaction on GRDB's writer queue (never on the caller's
    /// thread). Not interrupted by task cancellation: a batch is written whole or not at all.
    func write(_ rows: LedgerRows) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.pool.asyncWrite({ db in
                try Self.insert(rows, in: db)
            }, completion: { _, result in
                continuation.resume(with: result)
            })
        }
    }

    // MARK: - Spilling

    /// The insert with each row's PostgreSQL identity (`entry_uid`), for spilled rows.
    static let spillSQL = LedgerDatabase.insertSQL
        .replacingOccurrences(of: "requested_cost_nanos, failed_attempts_nanos, tags\n", with: "requested_cost_nanos, failed_attempts_nanos, tags, entry_uid\n")
        .replacingOccurrences(of: "?, ?)", with: "?, ?, ?)")

    /// Keeps rows a PostgreSQL ledger could not take, row `i` with the uid `uids(i)`.
    func write(_ rows: LedgerRows, uids: @escaping @Sendable (Int) -> String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.pool.asyncWrite({ db in
                try Self.insert(rows, uids: uids, in: db)
            }, completion: { _, result in
                continuation.resume(with: result)
            })
        }
    }

    /// Spilled rows waiting to be shipped.
    struct Spilled: Sendable {
        var rows: LedgerRows
        var uids: [String]
        /// The last row's id: shipped rows are deleted up to it.
        var lastID: Int64
    }

    /// The oldest `limit` spilled rows (all text kept), or nil when none wait.
    func oldestSpilled(limit: Int) async throws -> Spilled? {
        try await self.pool.read { db in
            var entries: [LedgerEntry] = []
            var uids: [String] = []
            var lastID: Int64 = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM ledger_entry ORDER BY id LIMIT ?", arguments: [limit])
            while let row = try rows.next() {
                entries.append(Self.entry(from: row))
                // Rows from before the spill file had uids cannot be told apart; they get one now.
                let id: Int64 = row["id"]
                uids.append(row["entry_uid"] ?? "spill-\(id)-\(row["time_ms"] as Int64)")
                lastID = id
            }
            guard !entries.isEmpty else { return nil }
            return Spilled(rows: LedgerRows(entries, storeText: true), uids: uids, lastID: lastID)
        }
    }

    /// Deletes spilled rows up to `id`, once PostgreSQL holds them.
    func deleteSpilled(throughID id: Int64) async throws {
        try await self.pool.write { db in try db.execute(sql: "DELETE FROM ledger_entry WHERE id <= ?", arguments: [id]) }
    }

    /// Writes `entries` in one transaction; prompt and response text only with `storeText`.
    func write(_ entries: [LedgerEntry], storeText: Bool) async throws {
        try await self.write(LedgerRows(entries, storeText: storeText))
    }

    // MARK: - Reading

    /// Entries recorded in `[fromMs, toMs)` (either end open when nil), oldest first.
    public func entries(fromMs: Int64? = nil, toMs: Int64? = nil, limit: Int? = nil) throws -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        try self.readEntries(fromMs: fromMs, toMs: toMs, limit: limit) { entries.append($0) }
        return entries
    }

    /// Calls `body` with each entry of `[fromMs, toMs)`, oldest first, reading them one at a
    /// time (a week of traffic need not fit in memory).
    public func readEntries(fromMs: Int64? = nil, toMs: Int64? = nil, limit: Int? = nil, _ body: (LedgerEntry) throws -> Void) throws {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let fromMs {
            conditions.append("time_ms >= ?")
            arguments += [fromMs]
        }
        if let toMs {
            conditions.append("time_ms < ?")
            arguments += [toMs]
        }
        var sql = "SELECT * FROM ledger_entry"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY time_ms, id"
        if let limit { sql += " LIMIT \(max(0, limit))" }
        try self.pool.read { db in
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() { try body(Self.entry(from: row)) }
        }
    }

    /// Spend since `fromMs` summed per (key, team, user): what a restarted gateway's
    /// in-process budgets start the day with.
    public func spend(sinceMs fromMs: Int64) throws -> [LedgerSpend] {
        try self.pool.read { db in try Self.spend(db, sinceMs: fromMs) }
    }

    static func spend(_ db: Database, sinceMs fromMs: Int64) throws -> [LedgerSpend] {
        try Row.fetchAll(
            db,
            sql: "SELECT key_id, team, \"user\", sum(cost_nanos) AS cost FROM ledger_entry WHERE time_ms >= ? GROUP BY key_id, team, \"user\"",
            arguments: [fromMs]
        ).map { row in (row["key_id"], row["team"], row["user"], USD(nanos: row["cost"] ?? 0)) }
    }

    /// Spend per (key, team) since `fromMs`, split at `splitMs`: what came after it (the last
    /// hour, for spend spikes) and before it (the trailing day), read on GRDB's reader queue.
    public func recentSpend(sinceMs fromMs: Int64, splitMs: Int64) async throws -> [LedgerRecentSpend] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT key_id, team, coalesce(sum(CASE WHEN time_ms >= ? THEN cost_nanos END), 0) AS recent,
                    coalesce(sum(CASE WHEN time_ms < ? THEN cost_nanos END), 0) AS before
                    FROM ledger_entry WHERE time_ms >= ? GROUP BY key_id, team
                    """,
                arguments: [splitMs, splitMs, fromMs]
            ).map { row in (row["key_id"], row["team"], USD(nanos: row["recent"]), USD(nanos: row["before"])) }
        }
    }

    /// Rows in the ledger.
    public func count() throws -> Int {
        try self.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger_entry") ?? 0 }
    }

    /// Checks the database answers (readiness).
    public func ping() async throws {
        _ = try await self.pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// A statement's rows as values in column order (reports).
    static func fetch(_ statement: LedgerStatement, in db: Database) throws -> [[LedgerValue]] {
        let arguments = StatementArguments(statement.arguments.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: nil
            case .int(let number): number
            case .text(let text): text
            }
        })
        return try Row.fetchAll(db, sql: statement.sql, arguments: arguments).map { row in
            row.databaseValues.map { value in
                switch value.storage {
                case .null: .null
                case .int64(let number): .int(number)
                case .double(let number): .int(Int64(number))
                case .string(let text): .text(text)
                case .blob(let data): .text(String(decoding: data, as: UTF8.self))
                }
            }
        }
    }

    static func entry(from row: Row) -> LedgerEntry {
        LedgerEntry(
            timeMs: row["time_ms"],
            requestID: row["request_id"],
            keyID: row["key_id"],
            team: row["team"],
            user: row["user"],
            route: row["route"],
            requestedModel: row["requested_model"],
            servedModel: row["served_model"],
            provider: row["provider"],
            inputTokens: row["input_tokens"],
            cachedInputTokens: row["cached_input_tokens"],
            outputTokens: row["output_tokens"],
            costNanodollars: row["cost_nanos"],
            cacheStatus: LedgerEntry.CacheStatus(rawValue: row["cache_status"]) ?? .miss,
            cacheAvoidedNanodollars: row["cache_avoided_nanos"],
            requestedCostNanodollars: row["requested_cost_nanos"],
            failedAttemptsNanodollars: row["failed_attempts_nanos"],
            fallback: LedgerEntry.Fallback(rawValue: row["fallback"]) ?? .none,
            attempts: row["attempts"],
            attemptErrors: row["attempt_errors"],
            truncated: row["truncated"],
            httpStatus: row["http_status"],
            errorCode: row["error_code"],
            stream: row["stream"],
            latencyMs: row["latency_ms"],
            upstreamLatencyMs: row["upstream_latency_ms"],
            timeToFirstTokenMs: row["ttft_ms"],
            featuresJSON: row["features"],
            tagsJSON: row["tags"],
            promptText: row["prompt_text"],
            responseText: row["response_text"]
        )
    }
}

/// Binds one row's values to a statement's parameters, in order; text in place (`SQLITE_STATIC`).
private struct ParameterBinder {
    private let statement: OpaquePointer
    private var index: Int32 = 1

    init(_ statement: OpaquePointer) {
        self.statement = statement
    }

    mutating func bind(_ value: Int64?) {
        if let value { sqlite3_bind_int64(self.statement, self.index, value) } else { sqlite3_bind_null(self.statement, self.index) }
        self.index += 1
    }

    /// Binds a copy of `text` (SQLite copies it: `SQLITE_TRANSIENT`).
    mutating func bindCopy(_ text: String) {
        _ = sqlite3_bind_text(self.statement, self.index, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        self.index += 1
    }

    mutating func bind(_ text: UnsafeRawBufferPointer?) {
        if let text, let base = text.baseAddress {
            _ = sqlite3_bind_text(self.statement, self.index, base.assumingMemoryBound(to: CChar.self), Int32(text.count), nil)
        } else {
            // No base address only for nil: `LedgerRows` hands out empty strings with one.
            sqlite3_bind_null(self.statement, self.index)
        }
        self.index += 1
    }
}

/// Copies committed WAL pages into the database file (a passive checkpoint) on a connection
/// of its own, off the writer's queue: the checkpoint's fsyncs then never delay a commit.
/// The `LedgerWriter` runs one about every second while rows are being written.
final class LedgerCheckpointer: Sendable {
    private let connection: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "tollgate.ledger.checkpoint"
        self.connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    func checkpoint() async throws {
        try await self.connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }
}
