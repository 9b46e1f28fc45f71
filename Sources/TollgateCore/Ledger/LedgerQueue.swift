import NIOCore

/// The ledger writer's state: rows waiting to be written, callers waiting for room, and the
/// writer task when it is parked. Pure: every method returns what to resume, and the
/// `LedgerWriter` resumes it outside its lock.
struct LedgerQueue {
    struct Pending {
        var entry: LedgerEntry
        var enqueuedAt: ContinuousClock.Instant
    }

    enum EnqueueResult {
        /// Queued; resume the writer if it is given.
        case enqueued(wakeWriter: CheckedContinuation<Void, Never>?)
        case full
        /// The caller's continuation waits for room; resume the writer if it is given.
        case blocked(wakeWriter: CheckedContinuation<Void, Never>?)
        /// The writer has stopped; write the row some other way.
        case finished
    }

    enum ParkResult {
        /// There is work (or a reason to stop) already: do not wait.
        case ready
        /// The writer's continuation is kept until `wake()` or enough rows arrive.
        case parked
    }

    let capacity: Int
    /// Whether rows keep their prompt and response text (`ledger.store_text`).
    let storeText: Bool
    /// Rows in arrival order, as bytes, and when each was recorded.
    private var rows: LedgerRows
    private var enqueuedAt = CircularBuffer<ContinuousClock.Instant>()
    /// The last batch's buffer, emptied, for the next one: batches reuse two buffers.
    private var spare: LedgerRows?
    /// `record` calls waiting for room, in arrival order, with the row they will add. Resumed
    /// with false once the row is queued (true would mean the writer stopped first).
    private var blocked = CircularBuffer<(pending: Pending, continuation: CheckedContinuation<Bool, Never>)>()
    private var writer: CheckedContinuation<Void, Never>?
    /// Rows needed to wake a parked writer early.
    private var wakeThreshold = 1
    private(set) var isShuttingDown = false
    private(set) var isFinished = false

    /// A batch buffer larger than this after a burst (prompt texts, a backlog) is let go
    /// rather than kept for reuse.
    static let maxKeptBytes = 4 << 20

    init(capacity: Int, storeText: Bool = false) {
        self.capacity = capacity
        self.storeText = storeText
        self.rows = LedgerRows(capacity: 64 << 10)
        self.enqueuedAt.reserveCapacity(min(capacity, 4096))
    }

    /// Rows not yet handed to the writer, including those of callers waiting for room.
    var depth: Int { self.rows.count + self.blocked.count }
    var blockedCount: Int { self.blocked.count }
    var oldestEnqueuedAt: ContinuousClock.Instant? { self.enqueuedAt.first }

    // MARK: - Callers

    /// Adds a row if there is room.
    mutating func enqueue(_ pending: Pending) -> EnqueueResult {
        self.enqueue(pending.entry, at: pending.enqueuedAt)
    }

    /// Adds a row, as bytes, if there is room.
    mutating func enqueue(_ entry: LedgerEntry, at time: ContinuousClock.Instant) -> EnqueueResult {
        if self.isFinished { return .finished }
        guard self.rows.count < self.capacity, self.blocked.isEmpty else { return .full }
        self.append(entry, at: time)
        return .enqueued(wakeWriter: self.takeWriterIfThresholdReached())
    }

    /// Adds a row (`enqueued`: the caller resumes its own continuation), or keeps the
    /// caller's continuation until there is room for it (`blocked`).
    mutating func enqueueOrBlock(_ pending: Pending, continuation: CheckedContinuation<Bool, Never>) -> EnqueueResult {
        switch self.enqueue(pending) {
        case .full:
            self.blocked.append((pending, continuation))
            // The writer may be parked waiting for a full batch; a full queue is one.
            return .blocked(wakeWriter: self.takeWriter())
        case let other:
            return other
        }
    }

    // MARK: - Writer

    /// Parks the writer until `threshold` rows wait, shutdown starts or `wake()` is called.
    /// `ready` when that holds already (or `alreadyDue`, e.g. the deadline passed or the
    /// task was cancelled).
    mutating func park(_ continuation: CheckedContinuation<Void, Never>, threshold: Int, alreadyDue: Bool) -> ParkResult {
        if alreadyDue || self.isShuttingDown || self.rows.count >= threshold || !self.blocked.isEmpty {
            return .ready
        }
        precondition(self.writer == nil, "one ledger writer at a time")
        self.writer = continuation
        self.wakeThreshold = threshold
        return .parked
    }

    /// The parked writer, to resume.
    mutating func wake() -> CheckedContinuation<Void, Never>? {
        self.takeWriter()
    }

    /// Starts the drain: the writer stops waiting for batches to fill.
    mutating func beginShutdown() -> CheckedContinuation<Void, Never>? {
        self.isShuttingDown = true
        return self.takeWriter()
    }

    /// Takes up to `maxCount` rows for one batch, and lets as many blocked callers add theirs
    /// (returned, to resume).
    mutating func takeBatch(maxCount: Int) -> (batch: LedgerRows, unblocked: [CheckedContinuation<Bool, Never>]) {
        let count = min(maxCount, self.rows.count)
        var batch = self.spare.take() ?? LedgerRows()
        self.rows.moveFirst(count, into: &batch)
        self.enqueuedAt.removeFirst(count)
        var unblocked: [CheckedContinuation<Bool, Never>] = []
        while self.rows.count < self.capacity, let waiting = self.blocked.popFirst() {
            self.append(waiting.pending.entry, at: waiting.pending.enqueuedAt)
            unblocked.append(waiting.continuation)
        }
        return (batch, unblocked)
    }

    /// Takes back a written batch's buffer, to hold the next batch.
    mutating func recycle(_ batch: consuming LedgerRows) {
        guard self.spare == nil, batch.capacity <= Self.maxKeptBytes else { return }
        batch.removeAll()
        self.spare = batch
    }

    /// Stops the queue for good: later rows get `.finished`. Returns whatever was left
    /// (only after a forced stop) and the callers to resume.
    mutating func finish() -> (rest: LedgerRows, unblocked: [CheckedContinuation<Bool, Never>]) {
        self.isFinished = true
        var rest = LedgerRows()
        swap(&rest, &self.rows)
        self.enqueuedAt.removeAll()
        var unblocked: [CheckedContinuation<Bool, Never>] = []
        while let waiting = self.blocked.popFirst() {
            rest.append(waiting.pending.entry, storeText: self.storeText)
            unblocked.append(waiting.continuation)
        }
        return (rest, unblocked)
    }

    // MARK: - Private

    private mutating func append(_ entry: LedgerEntry, at time: ContinuousClock.Instant) {
        self.rows.append(entry, storeText: self.storeText)
        self.enqueuedAt.append(time)
    }

    private mutating func takeWriterIfThresholdReached() -> CheckedContinuation<Void, Never>? {
        guard self.writer != nil, self.rows.count >= self.wakeThreshold else { return nil }
        return self.takeWriter()
    }

    private mutating func takeWriter() -> CheckedContinuation<Void, Never>? {
        defer { self.writer = nil }
        return self.writer
    }
}
