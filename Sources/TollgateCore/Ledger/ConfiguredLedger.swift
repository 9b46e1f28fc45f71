import Foundation
import Logging

/// The ledger and key store a configuration names, for one command-line call: PostgreSQL
/// with `ledger.url` (its client running for the call, the schema migrated), else the SQLite
/// files of the data dir.
public enum ConfiguredLedger {
    /// Runs `body` with the ledger to read; nil when it is SQLite and nothing was recorded yet.
    public static func read<Result: Sendable>(
        _ config: GatewayConfig, _ body: @Sendable ((any LedgerStore)?) async throws -> Result
    ) async throws -> Result {
        if let url = config.ledger.url {
            let ledger = try PostgresLedger(url: url, spillPath: config.ledgerPath, logger: Self.logger)
            return try await ledger.withClient { try await body(ledger) }
        }
        return try await body(try LedgerDatabase.openIfPresent(path: config.ledgerPath))
    }

    /// Runs `body` with the key store.
    public static func keys<Result: Sendable>(_ config: GatewayConfig, _ body: @Sendable (KeyStore) async throws -> Result) async throws -> Result {
        if let url = config.ledger.url {
            let ledger = try PostgresLedger(url: url, spillPath: config.ledgerPath, logger: Self.logger)
            return try await ledger.withClient { try await body(KeyStore(postgres: ledger)) }
        }
        return try await body(try KeyStore(directory: config.dataDirectory))
    }

    /// Commands print their own errors; the client's logs would only repeat them.
    private static let logger = Logger(label: "tollgate.ledger", factory: { _ in SwiftLogNoOpLogHandler() })
}
