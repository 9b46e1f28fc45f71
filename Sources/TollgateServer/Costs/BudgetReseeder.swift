import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateRedis

/// Puts this replica's share of today's spend back into Redis when Redis lost it (restarted
/// without persistence, failed over to an empty replica), before any budget is enforced again.
///
/// Each ledger (a replica's SQLite file and data dir, or the PostgreSQL ledger all share) keeps a marker key in Redis, `tg:seeded:{replica}`,
/// without expiry: it says "this ledger's spend today is in Redis". A Redis that lost its data
/// lost the marker too. Every claim checks it in the same script (fail closed: a claim seeing
/// no marker waits for the reseed and is tried again), and a watch loop checks it every few
/// seconds so an idle replica puts its share back too. Reseeding adds, per budget scope, what
/// this ledger recorded today, and sets the marker, in one script: it happens once per loss.
final class BudgetReseeder: Service, Sendable {
    let markerKey: String
    private let client: RedisClient
    private let ledger: (any LedgerStore)?
    private let today: TodaysSpend
    private let interval: Duration
    private let logger: Logger
    private let running = Mutex<Task<Void, any Error>?>(nil)
    private let reseeds = Counter(label: "tollgate_budget_reseeds_total")

    init(replica: String, client: RedisClient, ledger: (any LedgerStore)?, limits: LimitsConfig, interval: Duration = .seconds(2), logger: Logger) {
        self.markerKey = "tg:seeded:{\(replica)}"
        self.client = client
        self.ledger = ledger
        self.today = TodaysSpend(limits: limits)
        self.interval = interval
        self.logger = logger
    }

    /// Reseeds unless another caller is already doing it, in which case waits for that one.
    func reseed() async throws {
        let task = self.running.withLock { running in
            if let running { return running }
            let task = Task { try await self.reseedOnce() }
            running = task
            return task
        }
        defer { self.running.withLock { if $0 == task { $0 = nil } } }
        try await task.value
    }

    private func reseedOnce() async throws {
        var scopes: [TodaysSpend.ScopeSpend] = []
        if let ledger = self.ledger { scopes = try await self.today.read(from: ledger) }
        var keys = [self.markerKey]
        var arguments: [String] = []
        for scope in scopes where scope.spent > .zero {
            keys.append(RedisQuotaStore.budgetKey(scopeID: scope.scopeID, day: scope.day.name))
            arguments.append(String(scope.spent.nanos))
        }
        arguments.append(ISO8601DateFormatter().string(from: Date()))
        let reply = try await self.client.evaluate(QuotaScripts.seed, keys: keys, arguments: arguments)
        guard reply.integerValue == 1 else { return }  // another call of this replica's did it
        self.reseeds.increment()
        let total = scopes.reduce(USD.zero) { $0 + $1.spent }
        self.logger.warning(
            "Redis had no record of this replica's spend today (restarted empty or failed over): put back from the ledger",
            metadata: ["scopes": "\(keys.count - 1)", "spent_usd": "\(total)", "marker": "\(self.markerKey)"]
        )
    }

    /// Checks the marker every `interval`, so a replica that serves nothing puts its share
    /// back as soon as the others enforce budgets again.
    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await self.client.send(["EXISTS", self.markerKey]).integerValue == 0 { try await self.reseed() }
                } catch {
                    // Unreachable Redis is the limit store's to report; the next round tries again.
                }
                do { try await Task.sleep(for: self.interval) } catch { return }
            }
        }
    }

    /// The name of a ledger every replica shares (PostgreSQL): one marker for all of them, so
    /// the first replica to see Redis empty puts the whole day's spend back and the others,
    /// finding the marker, add nothing (a per-replica marker would add it once per replica).
    static func sharedLedgerIdentity(_ url: PostgresURL) -> String {
        "pg-" + KeySecret.hash(url.description).prefix(16)
    }

    /// A stable name for this replica's ledger: created once in the data dir, so a restarted
    /// process is the same replica (its spend is already in Redis) and two are never one.
    static func replicaIdentity(dataDirectory: String) throws -> String {
        let path = dataDirectory + "/replica-id"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            !existing.isEmpty
        {
            return existing
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let identity = UUID().uuidString.lowercased()
        try (identity + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return identity
    }
}
