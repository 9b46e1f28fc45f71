import Foundation
import GRDB

/// Spend summed per (key, team, user).
public typealias LedgerSpend = (keyID: String?, team: String?, user: String?, cost: USD)
/// Spend per (key, team) split into the recent part and the part before it.
public typealias LedgerRecentSpend = (keyID: String?, team: String?, recent: USD, before: USD)

/// Where the ledger is read from: the SQLite file (`LedgerDatabase`) or PostgreSQL
/// (`PostgresLedger`). Reports, the admin API, the dashboard, budgets and replay read through
/// this, so both backends give the same figures for the same rows.
public protocol LedgerStore: AnyObject, Sendable {
    /// Where the ledger lives, for logs: a path, or a URL without its password.
    var location: String { get }
    func report(_ query: LedgerReport.Query) async throws -> LedgerReport
    /// Spend since `sinceMs` summed per (key, team, user): what a restarted gateway's
    /// in-process budgets start the day with. A (key, team, user) may come more than once
    /// (PostgreSQL's rows and its spill file's); callers add them up.
    func spend(sinceMs: Int64) async throws -> [LedgerSpend]
    /// Spend per (key, team) since `sinceMs`, split at `splitMs` (spend spikes).
    func recentSpend(sinceMs: Int64, splitMs: Int64) async throws -> [LedgerRecentSpend]
    /// Rows in the ledger.
    func rowCount() async throws -> Int
    /// Checks the ledger answers (readiness).
    func ping() async throws
    /// Calls `body` with each entry of `[fromMs, toMs)`, oldest first, without holding them
    /// all in memory.
    func forEachEntry(fromMs: Int64?, toMs: Int64?, limit: Int?, _ body: (LedgerEntry) throws -> Void) async throws
}

extension LedgerDatabase: LedgerStore {
    public var location: String { self.path }

    public func spend(sinceMs fromMs: Int64) async throws -> [LedgerSpend] {
        try await self.pool.read { db in try Self.spend(db, sinceMs: fromMs) }
    }

    public func rowCount() async throws -> Int {
        try await self.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger_entry") ?? 0 }
    }

    /// Reads on the calling thread (the command line's `routes replay`).
    public func forEachEntry(fromMs: Int64?, toMs: Int64?, limit: Int?, _ body: (LedgerEntry) throws -> Void) async throws {
        try self.readEntries(fromMs: fromMs, toMs: toMs, limit: limit, body)
    }
}
