import Foundation
import GRDB
import Logging
import ServiceLifecycle
@testable import TollgateCore

/// A directory under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        self.path = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-ledger-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (self.path as NSString).appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(atPath: self.path) }
}

enum LedgerFixtures {
    static func entry(
        _ index: Int,
        timeMs: Int64 = 1_760_000_000_000,
        keyID: String? = "key_a",
        team: String? = "growth",
        user: String? = "alice",
        route: String? = "default",
        requestedModel: String? = "auto",
        servedModel: String? = "gpt-5-mini",
        inputTokens: Int = 100,
        cachedInputTokens: Int = 0,
        outputTokens: Int = 10,
        costNanodollars: Int64 = 1_000,
        cacheStatus: LedgerEntry.CacheStatus = .miss,
        httpStatus: Int = 200,
        latencyMs: Int = 100
    ) -> LedgerEntry {
        LedgerEntry(
            timeMs: timeMs, requestID: "req-\(index)", keyID: keyID, team: team, user: user, route: route,
            requestedModel: requestedModel, servedModel: servedModel, provider: "openai", inputTokens: inputTokens,
            cachedInputTokens: cachedInputTokens, outputTokens: outputTokens, costNanodollars: costNanodollars,
            cacheStatus: cacheStatus, httpStatus: httpStatus, latencyMs: latencyMs
        )
    }

    /// A new ledger file holding `entries`, removed after `body`.
    static func withLedger(_ entries: [LedgerEntry], _ body: (LedgerDatabase) throws -> Void) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try LedgerDatabase(path: directory.file("ledger.sqlite"))
        try database.pool.write { db in try LedgerDatabase.insert(entries, storeText: false, in: db) }
        try body(database)
    }

    /// Milliseconds for an ISO 8601 instant such as `2025-03-09T06:59:59Z`.
    static func ms(_ iso: String) -> Int64 {
        LedgerEntry.milliseconds(ISO8601DateFormatter().date(from: iso)!)
    }
}

/// Runs `writer` in a `ServiceGroup` around `body`, then shuts the group down gracefully and
/// waits for the writer to drain.
func withRunningWriter<T: Sendable>(
    _ writer: LedgerWriter,
    _ body: @Sendable (LedgerWriter) async throws -> T
) async throws -> T {
    let group = ServiceGroup(services: [writer], logger: Logger(label: "test"))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let result: T
        do {
            result = try await body(writer)
        } catch {
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

/// Polls `condition` every few milliseconds for up to `seconds` (generous: this is not a
/// timing assertion, only a bound on a hung test). Returns whether it became true.
func eventually(within seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}
