import GRDB
import Logging

/// Where the `LedgerWriter` writes its batches: the SQLite file, or PostgreSQL with a local
/// SQLite file to spill to while PostgreSQL cannot take rows.
protocol LedgerSink: Sendable {
    /// Where rows go, for logs.
    var location: String { get }
    /// Writes one batch, whole or not at all. `batch` numbers it: a retry passes the same
    /// number, so a backend that cannot tell whether a failed commit landed can write it
    /// again without doubling it.
    func write(_ rows: LedgerRows, batch: UInt64) async throws
    /// Whether a write is worth trying now (false while PostgreSQL is known to be down).
    var isAvailable: Bool { get }
    /// Whether `spill` can take batches: without it the writer retries until `write` works.
    var canSpill: Bool { get }
    /// Keeps a batch `write` cannot take (somewhere local), to be written later.
    func spill(_ rows: LedgerRows, batch: UInt64) async throws
    /// Background work while the writer runs (WAL checkpoints, shipping spilled rows), until
    /// cancelled. `rowsWritten` counts the writer's committed rows.
    func maintain(rowsWritten: @escaping @Sendable () -> Int) async
}

extension LedgerDatabase: LedgerSink {
    func write(_ rows: LedgerRows, batch: UInt64) async throws {
        try await self.write(rows)
    }

    var isAvailable: Bool { true }
    var canSpill: Bool { false }

    func spill(_ rows: LedgerRows, batch: UInt64) async throws {
        preconditionFailure("the SQLite ledger does not spill")
    }

    /// Checkpoints the WAL about every second while rows are being written.
    func maintain(rowsWritten: @escaping @Sendable () -> Int) async {
        let logger = Logger(label: "tollgate.ledger")
        let checkpointer: LedgerCheckpointer
        do {
            checkpointer = try LedgerCheckpointer(path: self.path)
        } catch {
            logger.error(
                "ledger checkpoints fall back to SQLite's automatic ones", metadata: ["error": "\(error)", "path": "\(self.path)"]
            )
            return
        }
        var checkpointedAt = rowsWritten()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let written = rowsWritten()
            guard written != checkpointedAt, !Task.isCancelled else { continue }
            do {
                try await checkpointer.checkpoint()
                checkpointedAt = written
            } catch {
                if Task.isCancelled { return }  // interrupted by the shutdown: nothing lost
                // Busy: another connection is checkpointing or closing; the next round will do.
                let busy = (error as? DatabaseError).map { $0.resultCode == .SQLITE_BUSY || $0.resultCode == .SQLITE_LOCKED } ?? false
                logger.log(
                    level: busy ? .debug : .warning, "ledger checkpoint failed", metadata: ["error": "\(error)", "path": "\(self.path)"]
                )
            }
        }
    }
}
