import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The request ledger in PostgreSQL, shared by every replica (`ledger.url`,
/// `TOLLGATE_LEDGER_URL`). The same rows as the SQLite ledger, written by the same
/// `LedgerWriter` in batches off the request path.
///
/// - Schema: created and migrated on start (`PostgresLedgerSchema`), under an advisory lock,
///   so replicas starting together do it once.
/// - Writes: one transaction per batch, multi-row INSERTs. Every row carries an `entry_uid`
///   (this process, the batch number and the row's place in it) that PostgreSQL keeps unique:
///   a batch retried after a commit whose answer was lost, or shipped again from the spill
///   file after a crash, is never written twice.
/// - Outages: a write that fails or takes longer than `writeTimeout` (a paused server never
///   answers) marks PostgreSQL down. Rows then wait in the writer's queue; once it is full,
///   or the writer stops, batches spill to a local SQLite file (`spill`). `run()` probes the
///   server every second while it is down, and ships spilled rows, oldest first, once it
///   answers. The client reconnects by itself, with backoff.
/// - `run()` (a `Service`) runs the PostgreSQL client: put it before the `LedgerWriter` in the
///   `ServiceGroup`, so that it stops after the writer has drained. The command line uses
///   `withClient` instead.
public final class PostgresLedger: Service, Sendable {
    public let url: PostgresURL
    let client: PostgresClient
    /// Where batches go while PostgreSQL cannot take them.
    let spillFile: LedgerDatabase
    let logger: Logger
    /// This process's prefix for `entry_uid`s.
    private let instance: String
    private let state = Mutex(ConnectionState())
    let writeTimeout: Duration

    private struct ConnectionState {
        var afterMigration: (@Sendable () async -> Void)?
        var migrated = false
        var available = false
        var lastError: String?
    }

    /// Connects lazily: nothing is sent before `run()` or `withClient` starts the client.
    /// `writeTimeout`: how long a write or probe may go unanswered before PostgreSQL counts
    /// as down (tests on a loaded machine give it minutes).
    public init(
        url: PostgresURL, spillPath: String, connections: Int = 4, writeTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "tollgate.ledger")
    ) throws {
        self.url = url
        self.logger = logger
        self.writeTimeout = writeTimeout
        self.client = PostgresClient(
            configuration: url.clientConfiguration(connections: max(2, connections), connectTimeout: .seconds(5)),
            backgroundLogger: logger
        )
        self.spillFile = try LedgerDatabase(path: spillPath)
        self.instance = String(UInt64.random(in: .min ... .max), radix: 36)
    }

    /// Creating the tables waits for locks other sessions may hold: longer than a write.
    private var migrationTimeout: Duration { max(self.writeTimeout, .seconds(60)) }

    /// Whether the schema is in place and the last write or probe succeeded.
    public var isAvailable: Bool { self.state.withLock { $0.available } }

    /// Rows waiting in the spill file for PostgreSQL.
    public func spilledRows() throws -> Int { try self.spillFile.count() }

    /// Runs `body` once, after `run()` has the schema in place and before this process's
    /// rows are written (in-process budgets read today's spend there, without their own).
    public func afterMigration(_ body: @escaping @Sendable () async -> Void) {
        self.state.withLock { $0.afterMigration = body }
    }

    // MARK: - Lifecycle

    /// Runs the client, creates or migrates the schema, and while it runs probes PostgreSQL
    /// when it is down and ships spilled rows. Returns on graceful shutdown.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask { await cancelWhenGracefulShutdown { await self.keepConnected() } }
        }
    }

    /// Runs `body` with the client running and the schema in place (the command line).
    public func withClient<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                await self.client.run()
                return nil
            }
            defer { group.cancelAll() }
            try await self.withTimeout("migrating the schema", after: self.migrationTimeout) {
                try await PostgresLedgerSchema.migrate(self.client, logger: self.logger)
            }
            self.state.withLock { $0.migrated = true }
            return try await body()
        }
    }

    private func keepConnected() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                if !self.state.withLock({ $0.migrated }) {
                    try await self.withTimeout("migrating the schema", after: self.migrationTimeout) {
                        try await PostgresLedgerSchema.migrate(self.client, logger: self.logger)
                    }
                    let hook = self.state.withLock { state in
                        state.migrated = true
                        return state.afterMigration.take()
                    }
                    self.logger.info("ledger schema ready in PostgreSQL", metadata: ["ledger": "\(self.url)"])
                    await hook?()
                }
                if !self.isAvailable {
                    try await self.withTimeout("probing") { try await self.ping() }
                    let wasDown = self.state.withLock { state in
                        defer {
                            state.available = true
                            state.lastError = nil
                        }
                        return state.lastError != nil
                    }
                    if wasDown { self.logger.notice("PostgreSQL answers again; ledger writes resume", metadata: ["ledger": "\(self.url)"]) }
                }
                attempt = 0
                if try await self.shipSpilled() { continue }  // more to ship
            } catch {
                attempt += 1
                self.markDown(error, doing: "connecting")
            }
            try? await Task.sleep(for: attempt == 0 ? .seconds(1) : LedgerWriter.backoff(attempt: attempt + 4))
        }
    }

    func markDown(_ error: any Error, doing what: String) {
        let text = String(describing: error)
        let wasUp = self.state.withLock { state in
            defer {
                state.available = false
                state.lastError = text
            }
            return state.available || state.lastError != text
        }
        if wasUp {
            self.logger.error("PostgreSQL ledger unavailable", metadata: ["error": "\(text)", "while": "\(what)", "ledger": "\(self.url)"])
        }
    }

    /// `body`, or a `PostgresLedgerTimeout` once `writeTimeout` passes (the body carries on
    /// and its outcome is dropped: a paused server answers nothing, ever).
    func withTimeout<T: Sendable>(
        _ what: String, after limit: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let timeout = limit ?? self.writeTimeout
        let race = FirstResult<T>()
        return try await withCheckedThrowingContinuation { continuation in
            race.set(continuation)
            let work = Task {
                do { race.resume(with: .success(try await body())) } catch { race.resume(with: .failure(error)) }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if race.resume(with: .failure(PostgresLedgerTimeout(what: what, after: timeout))) { work.cancel() }
            }
        }
    }

    // MARK: - Shipping

    /// Ships the oldest spilled rows (one batch); true when more may wait.
    private func shipSpilled() async throws -> Bool {
        guard let spilled = try await self.spillFile.oldestSpilled(limit: 1_000) else { return false }
        try await self.withTimeout("shipping spilled rows") {
            try await PostgresLedgerInsert.insert(spilled.rows, uids: { spilled.uids[$0] }, client: self.client, logger: self.logger)
        }
        try await self.spillFile.deleteSpilled(throughID: spilled.lastID)
        self.logger.notice("spilled ledger rows shipped to PostgreSQL", metadata: ["rows": "\(spilled.rows.count)"])
        return spilled.rows.count == 1_000
    }

    func uidPrefix(batch: UInt64) -> String { "\(self.instance)-\(batch)-" }
}

/// PostgreSQL did not answer in time.
public struct PostgresLedgerTimeout: Error, CustomStringConvertible {
    var what: String
    var after: Duration
    public var description: String { "PostgreSQL did not answer in \(self.after) (\(self.what))" }
}

// MARK: - Writing

extension PostgresLedger: LedgerSink {
    public var location: String { self.url.description }

    func write(_ rows: LedgerRows, batch: UInt64) async throws {
        let prefix = self.uidPrefix(batch: batch)
        do {
            try await self.withTimeout("writing a batch") {
                try await PostgresLedgerInsert.insert(rows, uids: { prefix + String($0) }, client: self.client, logger: self.logger)
            }
        } catch {
            self.markDown(error, doing: "writing")
            throw error
        }
    }

    var canSpill: Bool { true }

    func spill(_ rows: LedgerRows, batch: UInt64) async throws {
        let prefix = self.uidPrefix(batch: batch)
        try await self.spillFile.write(rows, uids: { prefix + String($0) })
    }

    /// `run()` does the upkeep: nothing to do alongside the writer.
    func maintain(rowsWritten: @escaping @Sendable () -> Int) async {}
}

/// A continuation resumed by whichever of two tasks finishes first.
private final class FirstResult<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    /// Resumes the continuation unless the other task did; true when this call did.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        guard let waiting = self.continuation.withLock({ $0.take() }) else { return false }
        waiting.resume(with: result)
        return true
    }
}
