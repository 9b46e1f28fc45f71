import Logging
import PostgresNIO

/// The ledger's (and the key store's) tables in PostgreSQL, created and migrated on start.
/// Migrations are applied in order, each once, recorded in `tollgate_migration`; an advisory
/// lock held for the transaction keeps replicas that start together from racing.
///
/// Columns match the SQLite ledger's, integers as BIGINT. `entry_uid` is unique: see
/// `PostgresLedger`. Indexes as in SQLite: time, and (key, team, user) with time.
enum PostgresLedgerSchema {
    static let migrations: [(name: String, sql: [String])] = [
        (
            "v1-ledger",
            [
                """
                CREATE TABLE ledger_entry (
                    id BIGSERIAL PRIMARY KEY,
                    entry_uid TEXT NOT NULL UNIQUE,
                    time_ms BIGINT NOT NULL,
                    request_id TEXT NOT NULL,
                    key_id TEXT,
                    team TEXT,
                    "user" TEXT,
                    route TEXT,
                    requested_model TEXT,
                    served_model TEXT,
                    provider TEXT,
                    input_tokens BIGINT NOT NULL DEFAULT 0,
                    cached_input_tokens BIGINT NOT NULL DEFAULT 0,
                    output_tokens BIGINT NOT NULL DEFAULT 0,
                    cost_nanos BIGINT NOT NULL DEFAULT 0,
                    cache_status TEXT NOT NULL DEFAULT 'miss',
                    fallback TEXT NOT NULL DEFAULT 'none',
                    attempt_errors TEXT,
                    http_status BIGINT NOT NULL,
                    error_code TEXT,
                    stream BIGINT NOT NULL DEFAULT 0,
                    latency_ms BIGINT NOT NULL,
                    upstream_latency_ms BIGINT,
                    ttft_ms BIGINT,
                    attempts BIGINT NOT NULL DEFAULT 1,
                    truncated BIGINT NOT NULL DEFAULT 0,
                    features TEXT,
                    prompt_text TEXT,
                    response_text TEXT,
                    cache_avoided_nanos BIGINT NOT NULL DEFAULT 0,
                    requested_cost_nanos BIGINT,
                    failed_attempts_nanos BIGINT NOT NULL DEFAULT 0,
                    tags TEXT
                )
                """,
                "CREATE INDEX ledger_entry_time ON ledger_entry (time_ms)",
                "CREATE INDEX ledger_entry_key_time ON ledger_entry (key_id, time_ms)",
                "CREATE INDEX ledger_entry_team_time ON ledger_entry (team, time_ms)",
                "CREATE INDEX ledger_entry_user_time ON ledger_entry (\"user\", time_ms)",
            ]
        ),
        (
            "v1-gateway-keys",
            [
                """
                CREATE TABLE gateway_key (
                    id TEXT PRIMARY KEY,
                    secret_hash TEXT NOT NULL UNIQUE,
                    secret_prefix TEXT NOT NULL,
                    name TEXT NOT NULL,
                    team TEXT,
                    "user" TEXT,
                    models TEXT,
                    rpm BIGINT,
                    tpm BIGINT,
                    max_concurrent BIGINT,
                    daily_budget_usd DOUBLE PRECISION,
                    created_at TIMESTAMPTZ NOT NULL,
                    revoked_at TIMESTAMPTZ
                )
                """,
            ]
        ),
    ]

    /// An arbitrary constant: the advisory lock's key.
    private static let lockKey: Int64 = 0x746f_6c6c_6761_7465

    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS tollgate_migration (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                logger: logger
            )
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM tollgate_migration", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in Self.migrations where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO tollgate_migration (name) VALUES (\(migration.name))", logger: logger)
                logger.info("PostgreSQL migration applied", metadata: ["migration": "\(migration.name)"])
            }
        }
    }
}
