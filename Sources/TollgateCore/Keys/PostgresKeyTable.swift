import Foundation
import Logging
import PostgresNIO

/// `gateway_key` in PostgreSQL (created by `PostgresLedgerSchema`): the same columns as the
/// SQLite key store's, hashes only. Lookups give up after `lookupTimeout`: a paused server
/// must not hold requests (`KeyRegistry` then answers from what it cached).
struct PostgresKeyTable: Sendable {
    let ledger: PostgresLedger
    var client: PostgresClient { self.ledger.client }
    var logger: Logger { self.ledger.logger }
    static let lookupTimeout: Duration = .seconds(2)

    func insert(_ key: GatewayKey, secret: String) async throws {
        let models = key.allowedModels?.joined(separator: ",")
        let rpm = key.requestsPerMinute.map(Int64.init)
        let tpm = key.tokensPerMinute.map(Int64.init)
        let concurrent = key.maxConcurrent.map(Int64.init)
        try await self.client.query(
            """
            INSERT INTO gateway_key (id, secret_hash, secret_prefix, name, team, "user", models, rpm, tpm, max_concurrent,
            daily_budget_usd, created_at) VALUES (\(key.id), \(KeySecret.hash(secret)), \(KeySecret.displayPrefix(secret)),
            \(key.name), \(key.team), \(key.user), \(models), \(rpm), \(tpm), \(concurrent), \(key.dailyBudgetUSD), \(key.createdAt))
            """,
            logger: self.logger
        )
    }

    func list() async throws -> [(key: GatewayKey, secretPrefix: String)] {
        let rows = try await self.client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns), secret_prefix FROM gateway_key ORDER BY created_at DESC, id"),
            logger: self.logger
        )
        var keys: [(key: GatewayKey, secretPrefix: String)] = []
        for try await row in rows {
            keys.append((try Self.key(from: row), try row.makeRandomAccess()[12].decode(String.self)))
        }
        return keys
    }

    func revoke(id: String) async throws -> Bool {
        let rows = try await self.client.query(
            """
            WITH revoked AS (UPDATE gateway_key SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(id) RETURNING 1)
            SELECT count(*) FROM revoked
            """,
            logger: self.logger
        )
        for try await count in rows.decode(Int64.self) { return count > 0 }
        return false
    }

    func lookup(hash: String) async throws -> GatewayKey? {
        try await self.ledger.withTimeout("looking up a key", after: Self.lookupTimeout) { try await self.fetch(hash: hash) }
    }

    private func fetch(hash: String) async throws -> GatewayKey? {
        var bindings = PostgresBindings()
        bindings.append(hash)
        let rows = try await self.client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM gateway_key WHERE secret_hash = $1", binds: bindings), logger: self.logger
        )
        for try await row in rows { return try Self.key(from: row) }
        return nil
    }

    func ping() async throws {
        try await self.ledger.withTimeout("checking the key table", after: Self.lookupTimeout) {
            try await self.client.query("SELECT count(*) FROM gateway_key", logger: self.logger)
        }
    }

    private static let columns = """
        id, name, team, "user", models, rpm, tpm, max_concurrent, daily_budget_usd, created_at, revoked_at, secret_hash
        """

    private static func key(from row: PostgresRow) throws -> GatewayKey {
        let columns = row.makeRandomAccess()
        return GatewayKey(
            id: try columns[0].decode(String.self),
            name: try columns[1].decode(String.self),
            team: try columns[2].decode(String?.self),
            user: try columns[3].decode(String?.self),
            allowedModels: try columns[4].decode(String?.self).map { $0.split(separator: ",").map(String.init) },
            requestsPerMinute: try columns[5].decode(Int64?.self).map(Int.init),
            tokensPerMinute: try columns[6].decode(Int64?.self).map(Int.init),
            maxConcurrent: try columns[7].decode(Int64?.self).map(Int.init),
            dailyBudgetUSD: try columns[8].decode(Double?.self),
            createdAt: try columns[9].decode(Date.self),
            revokedAt: try columns[10].decode(Date?.self),
            source: .database
        )
    }
}
