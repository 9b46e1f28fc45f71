import Foundation
import GRDB

/// Gateway keys created from the command line or the admin API, kept in SQLite under the data
/// dir, or in PostgreSQL with the ledger (`ledger.url`), where every replica sees a key
/// created or revoked on any of them (within `KeyRegistry`'s cache time, 2 s). Stores SHA-256
/// hashes only. Safe to share between the server and CLI processes.
///
/// The synchronous methods are for SQLite (tests); a PostgreSQL store answers the async ones.
public final class KeyStore: Sendable {
    private let database: DatabasePool?
    private let postgres: PostgresKeyTable?

    /// Opens the key table in the PostgreSQL ledger's database (its `run()` or `withClient`
    /// creates the table).
    public init(postgres ledger: PostgresLedger) {
        self.database = nil
        self.postgres = PostgresKeyTable(ledger: ledger)
    }

    /// Opens (creating if needed) `keys.sqlite` in `directory`.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        SQLiteRuntime.prepare()
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let path = (directory as NSString).appendingPathComponent("keys.sqlite")
        let database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
        self.database = database
        self.postgres = nil
    }

    /// The SQLite pool, for the synchronous calls.
    private func sqlite() throws -> DatabasePool {
        guard let database = self.database else { throw KeyStoreAsyncOnly() }
        return database
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-gateway-keys") { db in
            try db.create(table: "gateway_key") { table in
                table.column("id", .text).primaryKey()
                table.column("secret_hash", .text).notNull().unique()
                table.column("secret_prefix", .text).notNull()
                table.column("name", .text).notNull()
                table.column("team", .text)
                table.column("user", .text)
                table.column("models", .text)
                table.column("rpm", .integer)
                table.column("tpm", .integer)
                table.column("daily_budget_usd", .double)
                table.column("created_at", .datetime).notNull()
                table.column("revoked_at", .datetime)
            }
        }
        migrator.registerMigration("v2-max-concurrent") { db in
            try db.alter(table: "gateway_key") { table in table.add(column: "max_concurrent", .integer) }
        }
        return migrator
    }

    /// Creates a key and returns it with its secret. The secret is not kept: this is the
    /// only time anyone sees it.
    public func create(
        name: String,
        team: String? = nil,
        user: String? = nil,
        allowedModels: [String]? = nil,
        requestsPerMinute: Int? = nil,
        tokensPerMinute: Int? = nil,
        maxConcurrent: Int? = nil,
        dailyBudgetUSD: Double? = nil
    ) throws -> (key: GatewayKey, secret: String) {
        try self.create(KeyRequest(
            name: name, team: team, user: user, allowedModels: allowedModels, requestsPerMinute: requestsPerMinute,
            tokensPerMinute: tokensPerMinute, maxConcurrent: maxConcurrent, dailyBudgetUSD: dailyBudgetUSD
        ))
    }

    /// Creates the key `request` describes (on the caller's thread: the command line).
    public func create(_ request: KeyRequest) throws -> (key: GatewayKey, secret: String) {
        let secret = KeySecret.generate()
        let key = request.key(id: KeySecret.generateID(), createdAt: Date())
        try self.sqlite().write { db in try Self.insert(key, secret: secret, db) }
        return (key, secret)
    }

    /// `create` on GRDB's writer queue, not the caller's thread (the admin API).
    public func create(_ request: KeyRequest) async throws -> (key: GatewayKey, secret: String) {
        let secret = KeySecret.generate()
        let key = request.key(id: KeySecret.generateID(), createdAt: Date())
        if let postgres = self.postgres {
            try await postgres.insert(key, secret: secret)
        } else {
            try await self.sqlite().write { db in try Self.insert(key, secret: secret, db) }
        }
        return (key, secret)
    }

    /// Every key, newest first, with the displayable prefix of its secret.
    public func list() throws -> [(key: GatewayKey, secretPrefix: String)] {
        try self.sqlite().read(Self.list)
    }

    /// `list` on GRDB's reader queue.
    public func list() async throws -> [(key: GatewayKey, secretPrefix: String)] {
        if let postgres = self.postgres { return try await postgres.list() }
        return try await self.sqlite().read(Self.list)
    }

    /// Revokes a key. Returns false when no such key exists.
    @discardableResult
    public func revoke(id: String) throws -> Bool {
        try self.sqlite().write { db in try Self.revoke(id: id, db) }
    }

    /// `revoke` on GRDB's writer queue.
    @discardableResult
    public func revoke(id: String) async throws -> Bool {
        if let postgres = self.postgres { return try await postgres.revoke(id: id) }
        return try await self.sqlite().write { db in try Self.revoke(id: id, db) }
    }

    private static func list(_ db: Database) throws -> [(key: GatewayKey, secretPrefix: String)] {
        try Row.fetchAll(db, sql: "SELECT * FROM gateway_key ORDER BY created_at DESC, id").map { row in
            (Self.key(from: row), row["secret_prefix"] as String)
        }
    }

    private static func revoke(id: String, _ db: Database) throws -> Bool {
        try db.execute(sql: "UPDATE gateway_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [Date(), id])
        if db.changesCount > 0 { return true }
        return try Bool.fetchOne(db, sql: "SELECT 1 FROM gateway_key WHERE id = ?", arguments: [id]) ?? false
    }

    private static func insert(_ key: GatewayKey, secret: String, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO gateway_key (id, secret_hash, secret_prefix, name, team, user, models, rpm, tpm, max_concurrent, daily_budget_usd, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                key.id, KeySecret.hash(secret), KeySecret.displayPrefix(secret), key.name, key.team, key.user,
                key.allowedModels?.joined(separator: ","), key.requestsPerMinute, key.tokensPerMinute, key.maxConcurrent,
                key.dailyBudgetUSD, key.createdAt,
            ]
        )
    }

    /// Finds the key whose secret hashes to `hash`. Runs on GRDB's reader queue, never on the
    /// caller's thread.
    public func lookup(hash: String) async throws -> GatewayKey? {
        if let postgres = self.postgres { return try await postgres.lookup(hash: hash) }
        return try await self.sqlite().read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM gateway_key WHERE secret_hash = ?", arguments: [hash]).map(Self.key(from:))
        }
    }

    /// Checks the database answers (readiness).
    public func ping() async throws {
        if let postgres = self.postgres { return try await postgres.ping() }
        _ = try await self.sqlite().read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM gateway_key") }
    }

    private static func key(from row: Row) -> GatewayKey {
        GatewayKey(
            id: row["id"],
            name: row["name"],
            team: row["team"],
            user: row["user"],
            allowedModels: (row["models"] as String?).map { $0.split(separator: ",").map(String.init) },
            requestsPerMinute: row["rpm"],
            tokensPerMinute: row["tpm"],
            maxConcurrent: row["max_concurrent"],
            dailyBudgetUSD: row["daily_budget_usd"],
            createdAt: row["created_at"],
            revokedAt: row["revoked_at"],
            source: .database
        )
    }
}

/// A synchronous call on a PostgreSQL key store.
public struct KeyStoreAsyncOnly: Error, CustomStringConvertible {
    public var description: String { "the PostgreSQL key store answers only async calls" }
}
