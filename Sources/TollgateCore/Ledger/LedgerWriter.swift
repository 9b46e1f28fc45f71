import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization

/// Writes ledger rows off the request path. Request handlers hand each finished request to
/// `record` (or `tryRecord`), which only appends to a bounded in-memory queue; `run()` (a
/// `Service`) writes the queue in batches, one transaction each, on GRDB's writer queue.
///
/// - Latency: a row is written at most `flushInterval` (≤ 50 ms) after it was recorded,
///   sooner when `batchSize` rows are waiting. A SIGKILL loses at most those rows.
/// - Backpressure: when `queueCapacity` rows wait, `record` suspends its caller until the
///   writer makes room, and `tryRecord` returns false. Nothing is ever dropped.
/// - Failures: a failed batch is retried with backoff (50 ms doubling to 5 s) and logged at
///   error level each time; later rows wait behind it (order is kept), and once the queue
///   fills, `record` callers wait too. With PostgreSQL (`PostgresLedger`) the queue is the
///   memory bound instead: once it is full, or the writer is stopping, batches PostgreSQL
///   cannot take spill to a local SQLite file and are shipped when it answers again.
/// - Shutdown: on graceful shutdown `run()` writes everything queued, including rows recorded
///   while it drains, then returns. Put the writer before the HTTP server in the
///   `ServiceGroup`, so that it shuts down after the server has finished its requests.
///   A row recorded after `run()` returned is written directly, one transaction per row.
///   On cancellation (forced shutdown) it makes one last attempt to write what is queued.
/// - `run()` must be running for rows to be written; until it starts they wait in the queue.
public final class LedgerWriter: Service, Sendable {
    /// How the writer batches. `LedgerConfig` provides these from tollgate.yaml.
    public struct Configuration: Sendable {
        public var flushInterval: Duration
        public var queueCapacity: Int
        public var batchSize: Int
        public var storeText: Bool

        public init(
            flushInterval: Duration = LedgerConfig.maxFlushInterval,
            queueCapacity: Int = 100_000,
            batchSize: Int = 1_000,
            storeText: Bool = false
        ) {
            self.flushInterval = flushInterval
            self.queueCapacity = max(1, queueCapacity)
            self.batchSize = max(1, batchSize)
            self.storeText = storeText
        }

        public init(_ config: LedgerConfig) {
            self.init(
                flushInterval: config.flushInterval, queueCapacity: config.queueCapacity,
                batchSize: config.batchSize, storeText: config.storeText
            )
        }
    }

    public let configuration: Configuration
    private let sink: any LedgerSink
    private let logger: Logger
    private let queue: Mutex<LedgerQueue>
    private let batchNumbers = Atomic<UInt64>(0)
    private let rowsSpilledCounter = Atomic<Int>(0)
    private let rowsWrittenCounter = Atomic<Int>(0)
    private let batchesWrittenCounter = Atomic<Int>(0)
    private let writeFailuresCounter = Atomic<Int>(0)
    private let rowsLostCounter = Atomic<Int>(0)

    /// A writer to the SQLite ledger.
    public convenience init(
        database: LedgerDatabase,
        configuration: Configuration = .init(),
        logger: Logger = Logger(label: "tollgate.ledger")
    ) {
        self.init(sink: database, configuration: configuration, logger: logger)
    }

    /// A writer to PostgreSQL, spilling to the ledger's local SQLite file when it must.
    public convenience init(
        postgres: PostgresLedger,
        configuration: Configuration = .init(),
        logger: Logger = Logger(label: "tollgate.ledger")
    ) {
        self.init(sink: postgres, configuration: configuration, logger: logger)
    }

    init(sink: any LedgerSink, configuration: Configuration, logger: Logger) {
        self.sink = sink
        self.configuration = configuration
        self.logger = logger
        self.queue = Mutex(LedgerQueue(capacity: configuration.queueCapacity, storeText: configuration.storeText))
    }

    // MARK: - Metrics

    /// Rows committed to the database since start.
    public var rowsWritten: Int { self.rowsWrittenCounter.load(ordering: .relaxed) }
    /// Transactions committed since start.
    public var batchesWritten: Int { self.batchesWrittenCounter.load(ordering: .relaxed) }
    /// Failed write attempts (each is retried).
    public var writeFailures: Int { self.writeFailuresCounter.load(ordering: .relaxed) }
    /// Rows kept in the local spill file because PostgreSQL could not take them.
    public var rowsSpilled: Int { self.rowsSpilledCounter.load(ordering: .relaxed) }
    /// Rows given up on: only when a forced shutdown meets a failing database.
    public var rowsLost: Int { self.rowsLostCounter.load(ordering: .relaxed) }
    /// Rows recorded and not yet handed to the database (including callers waiting for room).
    public var queueDepth: Int { self.queue.withLock { $0.depth } }
    /// `record` calls suspended because the queue is full.
    public var waitingRecorders: Int { self.queue.withLock { $0.blockedCount } }

    // MARK: - Recording

    /// Queues `entry` if there is room and returns true; false when the queue is full (or the
    /// writer has stopped). For synchronous callers: on false, call `record` from a task, so
    /// that the row still gets written. The queue keeps a copy of the row's bytes, not of
    /// the entry (`LedgerRows`).
    public func tryRecord(_ entry: LedgerEntry) -> Bool {
        let now = ContinuousClock.now
        switch self.queue.withLock({ $0.enqueue(entry, at: now) }) {
        case .enqueued(let writer):
            writer?.resume()
            return true
        case .full, .finished, .blocked:
            return false
        }
    }

    /// Queues `entry`. Costs a lock and an append when there is room; when the queue is full,
    /// suspends until the writer makes room (backpressure instead of dropping rows). Runs on
    /// the caller's executor: no hop on the fast path.
    nonisolated(nonsending) public func record(_ entry: LedgerEntry) async {
        let pending = LedgerQueue.Pending(entry: entry, enqueuedAt: .now)
        switch self.queue.withLock({ $0.enqueue(pending) }) {
        case .enqueued(let writer):
            writer?.resume()
            return
        case .finished:
            await self.writeAfterFinish(entry)
            return
        case .full, .blocked:
            break
        }
        let finished = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let outcome = self.queue.withLock { $0.enqueueOrBlock(pending, continuation: continuation) }
            switch outcome {
            case .enqueued(let writer):
                // Room was made since the first try.
                writer?.resume()
                continuation.resume(returning: false)
            case .blocked(let writer):
                writer?.resume()
            case .finished:
                continuation.resume(returning: true)
            case .full:
                preconditionFailure("enqueueOrBlock never answers full")
            }
        }
        if finished { await self.writeAfterFinish(entry) }
    }

    // MARK: - Service

    /// Writes batches until graceful shutdown, then drains the queue and returns.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.sink.maintain(rowsWritten: { self.rowsWritten }) }
                await self.writeLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.queue.withLock { $0.beginShutdown() }?.resume()
        }
        let (rest, unblocked) = self.queue.withLock { $0.finish() }
        for continuation in unblocked { continuation.resume(returning: false) }
        if !rest.isEmpty {
            // Only after cancellation: one last attempt, in a task that is not cancelled.
            let count = rest.count
            self.logger.warning("ledger writer cancelled; writing the rows still queued", metadata: ["rows": "\(count)"])
            await Task.detached { await self.writeOnce(rest, context: "final write after cancellation") }.value
        }
        self.logger.debug("ledger writer stopped", metadata: ["rows_written": "\(self.rowsWritten)"])
    }

    // MARK: - Private

    private func writeLoop() async {
        let interval = self.configuration.flushInterval
        let batchSize = self.configuration.batchSize
        while !Task.isCancelled {
            await self.park(threshold: 1, deadline: nil)
            let (oldest, depth, shuttingDown) = self.queue.withLock { ($0.oldestEnqueuedAt, $0.depth, $0.isShuttingDown) }
            guard let oldest else {
                if shuttingDown && depth == 0 { return }
                continue
            }
            if !shuttingDown && depth < batchSize {
                // Let the batch fill until its oldest row has waited one flush interval.
                await self.park(threshold: batchSize, deadline: oldest + interval)
            }
            let (batch, unblocked) = self.queue.withLock { $0.takeBatch(maxCount: batchSize) }
            for continuation in unblocked { continuation.resume(returning: false) }
            if !batch.isEmpty { await self.writeWithRetry(batch) }
            self.queue.withLock { $0.recycle(batch) }
        }
    }

    /// Waits until `threshold` rows are queued, the deadline passes, shutdown starts or the
    /// task is cancelled.
    private func park(threshold: Int, deadline: ContinuousClock.Instant?) async {
        await withTaskCancellationHandler {
            if let deadline {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        self.queue.withLock { $0.wake() }?.resume()
                    }
                    await self.parkUntilWoken(threshold: threshold, deadline: deadline)
                    group.cancelAll()
                }
            } else {
                await self.parkUntilWoken(threshold: threshold, deadline: nil)
            }
        } onCancel: {
            self.queue.withLock { $0.wake() }?.resume()
        }
    }

    private func parkUntilWoken(threshold: Int, deadline: ContinuousClock.Instant?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // Checked under the lock, so a wake-up from the timer or cancellation is never lost.
            let result = self.queue.withLock { queue in
                let due = Task.isCancelled || deadline.map { ContinuousClock.now >= $0 } ?? false
                return queue.park(continuation, threshold: threshold, alreadyDue: due)
            }
            if case .ready = result { continuation.resume() }
        }
    }

    private func writeWithRetry(_ batch: LedgerRows) async {
        let number = self.batchNumbers.add(1, ordering: .relaxed).newValue
        var attempt = 0
        while true {
            if self.sink.isAvailable {
                do {
                    try await self.sink.write(batch, batch: number)
                    self.rowsWrittenCounter.add(batch.count, ordering: .relaxed)
                    self.batchesWrittenCounter.add(1, ordering: .relaxed)
                    if attempt > 0 {
                        self.logger.notice("ledger write succeeded after retrying", metadata: ["attempts": "\(attempt + 1)"])
                    }
                    return
                } catch {
                    attempt += 1
                    self.writeFailuresCounter.add(1, ordering: .relaxed)
                    self.logger.error(
                        "ledger write failed; retrying",
                        metadata: [
                            "error": "\(error)", "rows": "\(batch.count)", "attempt": "\(attempt)",
                            "queue_depth": "\(self.queueDepth)", "ledger": "\(self.sink.location)",
                        ]
                    )
                }
            }
            if self.sink.canSpill, self.mustSpill, await self.spill(batch, number: number) { return }
            if Task.isCancelled {
                self.rowsLostCounter.add(batch.count, ordering: .relaxed)
                self.logger.critical(
                    "ledger write failed during a forced shutdown; rows lost",
                    metadata: ["rows": "\(batch.count)", "ledger": "\(self.sink.location)"]
                )
                return
            }
            let delay = Self.backoff(attempt: max(attempt, 1))
            if self.sink.canSpill {
                // Wake early when the queue fills or shutdown starts: then the batch spills.
                await self.park(threshold: self.configuration.queueCapacity, deadline: .now + min(delay, .seconds(1)))
            } else {
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// The queue is full (or callers wait for room), or the writer is stopping: rows that
    /// cannot be written now go to the spill file rather than wait in memory.
    private var mustSpill: Bool {
        Task.isCancelled || self.queue.withLock { $0.depth >= self.configuration.queueCapacity || $0.isShuttingDown }
    }

    private func spill(_ batch: LedgerRows, number: UInt64) async -> Bool {
        do {
            try await self.sink.spill(batch, batch: number)
            self.rowsSpilledCounter.add(batch.count, ordering: .relaxed)
            self.logger.warning(
                "ledger rows spilled to the local file until PostgreSQL takes them",
                metadata: ["rows": "\(batch.count)", "queue_depth": "\(self.queueDepth)"]
            )
            return true
        } catch {
            self.writeFailuresCounter.add(1, ordering: .relaxed)
            self.logger.critical("ledger spill failed", metadata: ["error": "\(error)", "rows": "\(batch.count)"])
            return false
        }
    }

    /// One attempt, for rows that come after the writer stopped; spilled when it fails.
    private func writeOnce(_ entries: LedgerRows, context: String) async {
        let number = self.batchNumbers.add(1, ordering: .relaxed).newValue
        if self.sink.isAvailable {
            do {
                try await self.sink.write(entries, batch: number)
                self.rowsWrittenCounter.add(entries.count, ordering: .relaxed)
                self.batchesWrittenCounter.add(1, ordering: .relaxed)
                return
            } catch {
                self.writeFailuresCounter.add(1, ordering: .relaxed)
                self.logger.error("ledger write failed", metadata: ["error": "\(error)", "rows": "\(entries.count)", "context": "\(context)"])
            }
        }
        if self.sink.canSpill, await self.spill(entries, number: number) { return }
        self.rowsLostCounter.add(entries.count, ordering: .relaxed)
        self.logger.critical(
            "ledger write failed; rows lost",
            metadata: ["rows": "\(entries.count)", "context": "\(context)", "ledger": "\(self.sink.location)"]
        )
    }

    private func writeAfterFinish(_ entry: LedgerEntry) async {
        self.logger.warning("ledger row recorded after the writer stopped; writing it directly")
        await self.writeOnce(LedgerRows([entry], storeText: self.configuration.storeText), context: "recorded after the writer stopped")
    }

    /// 50 ms, 100 ms, 200 ms ... at most 5 s.
    static func backoff(attempt: Int) -> Duration {
        let milliseconds = 50 << min(max(attempt - 1, 0), 7)
        return .milliseconds(min(milliseconds, 5_000))
    }
}
