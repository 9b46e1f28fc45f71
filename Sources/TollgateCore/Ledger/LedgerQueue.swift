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
    /// Rows in arrival order, and when each was recorded (kept apart so that taking a batch
    /// moves the entries out without copying them).
    private var rows = CircularBuffer<LedgerEntry>()
    private var enqueuedAt = CircularBuffer<ContinuousClock.Instant>()
    /// `record` calls waiting for room, in arrival order, with the row they will add. Resumed
    /// with false once the row is queued (true would mean the writer stopped first).
    private var blocked = CircularBuffer<(pending: Pending, continuation: CheckedContinuation<Bool, Never>)>()
    private var writer: CheckedContinuation<Void, Never>?
    /// Rows needed to wake a parked writer early.
    private var wakeThreshold = 1
    private(set) var isShuttingDown = false
    private(set) var isFinished = false

    init(capacity: Int) {
        self.capacity = capacity
        self.rows.reserveCapacity(min(capacity, 4096))
        self.enqueuedAt.reserveCapacity(min(capacity, 4096))
    }

    /// Rows not yet handed to the writer, including those of callers waiting for room.
    var depth: Int { self.rows.count + self.blocked.count }
    var blockedCount: Int { self.blocked.count }
    var oldestEnqueuedAt: ContinuousClock.Instant? { self.enqueuedAt.first }

    // MARK: - Callers

    /// Adds a row if there is room.
    mutating func enqueue(_ pending: Pending) -> EnqueueResult {
        var entry: LedgerEntry? = pending.entry
        return self.enqueue(taking: &entry, at: pending.enqueuedAt)
    }

    /// Adds a row if there is room, moving it out of `entry` (left as it was otherwise): on the
    /// request path a row is never copied, which would retain and release each of its strings.
    mutating func enqueue(taking entry: inout LedgerEntry?, at time: ContinuousClock.Instant) -> EnqueueResult {
        if self.isFinished { return .finished }
        guard self.rows.count < self.capacity, self.blocked.isEmpty, let row = entry.take() else { return .full }
        self.rows.append(row)
        self.enqueuedAt.append(time)
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
    mutating func takeBatch(maxCount: Int) -> (batch: [LedgerEntry], unblocked: [CheckedContinuation<Bool, Never>]) {
        let count = min(maxCount, self.rows.count)
        var batch: [LedgerEntry] = []
        batch.reserveCapacity(count)
        for _ in 0..<count { batch.append(self.rows.removeFirst()) }
        self.enqueuedAt.removeFirst(count)
        var unblocked: [CheckedContinuation<Bool, Never>] = []
        while self.rows.count < self.capacity, let waiting = self.blocked.popFirst() {
            self.append(waiting.pending)
            unblocked.append(waiting.continuation)
        }
        return (batch, unblocked)
    }

    /// Stops the queue for good: later rows get `.finished`. Returns whatever was left
    /// (only after a forced stop) and the callers to resume.
    mutating func finish() -> (rest: [LedgerEntry], unblocked: [CheckedContinuation<Bool, Never>]) {
        self.isFinished = true
        var rest = Array(self.rows)
        self.rows.removeAll()
        self.enqueuedAt.removeAll()
        var unblocked: [CheckedContinuation<Bool, Never>] = []
        while let waiting = self.blocked.popFirst() {
            rest.append(waiting.pending.entry)
            unblocked.append(waiting.continuation)
        }
        return (rest, unblocked)
    }

    // MARK: - Private

    private mutating func append(_ pending: Pending) {
        self.rows.append(pending.entry)
        self.enqueuedAt.append(pending.enqueuedAt)
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
