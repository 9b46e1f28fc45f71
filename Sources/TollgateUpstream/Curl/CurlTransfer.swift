import CCurl
import NIOConcurrencyHelpers
import NIOCore

/// One request/response exchange on the curl multi handle.
///
/// State lives in two places:
/// - `shared`, behind a lock: the continuation waiting for the response head and the body
///   buffer (``BodyStreamState``). Touched by the loop thread and by the consumer's tasks.
/// - everything else: owned by the calling task until the transfer is submitted to the
///   loop, then only touched on the loop thread (in curl callbacks and loop commands).
///
/// `@unchecked Sendable`: the unlocked fields follow that hand-over, which goes through
/// the loop's command queue lock; the consumer side only touches `shared` and the
/// immutable fields.
final class CurlTransfer: @unchecked Sendable {
    enum HeadState {
        case idle
        case waiting(UnsafeContinuation<UpstreamResponse, any Error>)
        /// `execute` was cancelled before the continuation existed.
        case cancelled
        case done
    }

    struct Shared {
        var head = HeadState.idle
        var body: BodyStreamState
    }

    enum LoopState {
        /// Configured, not (yet) on the multi handle.
        case pending
        case active
        /// Removed from the multi handle and resources released.
        case finished
    }

    let loop: CurlLoop
    let shared: NIOLockedValueBox<Shared>
    let idleNanoseconds: UInt64
    /// Absolute deadline (`NIODeadline` uptime nanoseconds), 0 for none.
    let totalDeadline: UInt64
    /// Absolute deadline for the response head, 0 for none.
    let firstByteDeadline: UInt64
    /// How often the loop needs to look at this transfer's timers.
    let timerGranularity: UInt64

    // MARK: Owned by the caller, then by the loop thread

    var easy: EasyHandle?
    var requestHeaders: UnsafeMutablePointer<curl_slist>?
    /// Keeps the request body's storage, which curl reads from (`CURLOPT_POSTFIELDS`), alive.
    var requestBodyStorage: Unmanaged<AnyObject>?
    var loopState = LoopState.pending
    /// A cancel command arrived before the add command.
    var cancelRequested = false
    var activeIndex = -1
    var lastActivity: UInt64 = 0
    /// The write callback returned `CURL_WRITEFUNC_PAUSE` and curl_easy_pause(CONT) is due.
    var curlPaused = false
    /// The final header block has arrived (the blank line after it).
    var headComplete = false
    /// The head was handed to `execute` (or nobody waited for it any more).
    var headDelivered = false
    var status = 0
    var headers: [(name: String, value: String)] = []

    init(loop: CurlLoop, easy: EasyHandle, timeouts: UpstreamTimeouts, highWatermark: Int, lowWatermark: Int) {
        self.loop = loop
        self.easy = easy
        self.shared = NIOLockedValueBox(Shared(body: BodyStreamState(highWatermark: highWatermark, lowWatermark: lowWatermark)))
        self.idleNanoseconds = max(1_000_000, timeouts.idle.clampedNanoseconds)
        var shortest = self.idleNanoseconds
        let now = NIODeadline.now().uptimeNanoseconds
        if let total = timeouts.total {
            let nanoseconds = max(1_000_000, total.clampedNanoseconds)
            self.totalDeadline = now + nanoseconds
            shortest = min(shortest, nanoseconds)
        } else {
            self.totalDeadline = 0
        }
        if let firstByte = timeouts.firstByte {
            let nanoseconds = max(1_000_000, firstByte.clampedNanoseconds)
            self.firstByteDeadline = now + nanoseconds
            shortest = min(shortest, nanoseconds)
        } else {
            self.firstByteDeadline = 0
        }
        self.timerGranularity = min(max(shortest / 16, 2_000_000), 250_000_000)
    }

    // MARK: Caller side (execute)

    /// Submits the transfer once `continuation` is in place to receive the head.
    func start(_ continuation: UnsafeContinuation<UpstreamResponse, any Error>) {
        let submit = self.shared.withLockedValue { shared -> Bool in
            switch shared.head {
            case .idle:
                shared.head = .waiting(continuation)
                return true
            case .cancelled:
                shared.head = .done
                return false
            case .waiting, .done:
                preconditionFailure("transfer started twice")
            }
        }
        guard submit else {
            self.releaseResources()
            continuation.resume(throwing: CancellationError())
            return
        }
        if !self.loop.submit(.add(self)) {
            // The loop has stopped and never saw this transfer: it is still ours to clean up.
            let waiting = self.takeHeadContinuation()
            self.releaseResources()
            waiting?.resume(throwing: UpstreamError.shutdown)
        }
    }

    /// `execute` was cancelled while waiting for the head.
    func cancelHead() {
        let waiting = self.shared.withLockedValue { shared -> UnsafeContinuation<UpstreamResponse, any Error>? in
            switch shared.head {
            case .idle:
                shared.head = .cancelled
                return nil
            case .waiting(let continuation):
                shared.head = .done
                return continuation
            case .cancelled, .done:
                return nil
            }
        }
        if let waiting {
            waiting.resume(throwing: CancellationError())
            _ = self.loop.submit(.cancel(self, .cancelled))
        }
    }

    private func takeHeadContinuation() -> UnsafeContinuation<UpstreamResponse, any Error>? {
        self.shared.withLockedValue { shared in
            guard case .waiting(let continuation) = shared.head else { return nil }
            shared.head = .done
            return continuation
        }
    }

    // MARK: Consumer side (UpstreamBody)

    func claimIterator() {
        self.shared.withLockedValue { $0.body.claimIterator() }
    }

    func nextChunk() async throws -> ByteBuffer? {
        if Task.isCancelled {
            self.cancelConsumer()
        }
        switch self.shared.withLockedValue({ $0.body.next() }) {
        case .element(let chunk, let resumeProducer):
            if resumeProducer { _ = self.loop.submit(.resume(self)) }
            return chunk
        case .end:
            return nil
        case .fail(let error):
            throw error
        case .suspend:
            break
        }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<ByteBuffer?, any Error>) in
                switch self.shared.withLockedValue({ $0.body.suspend(continuation) }) {
                case .element(let chunk, let resumeProducer):
                    if resumeProducer { _ = self.loop.submit(.resume(self)) }
                    continuation.resume(returning: chunk)
                case .end:
                    continuation.resume(returning: nil)
                case .fail(let error):
                    continuation.resume(throwing: error)
                case .suspend:
                    break
                }
            }
        } onCancel: {
            self.cancelConsumer()
        }
    }

    private func cancelConsumer() {
        let (waiter, cancelTransfer) = self.shared.withLockedValue { $0.body.cancelConsumer() }
        waiter?.resume(throwing: UpstreamError.cancelled)
        if cancelTransfer {
            _ = self.loop.submit(.cancel(self, .cancelled))
        }
    }

    /// Fails the transfer with `error` (the head's waiter or the body's reader gets it).
    func abort(_ error: UpstreamError) {
        _ = self.loop.submit(.cancel(self, error))
    }

    /// The body value (if no iterator was made) or the iterator went away.
    func consumerDropped(iterator: Bool) {
        let cancelTransfer = self.shared.withLockedValue { shared -> Bool in
            if !iterator, shared.body.iteratorCreated { return false }
            return shared.body.dropConsumer()
        }
        if cancelTransfer {
            _ = self.loop.submit(.cancel(self, .cancelled))
        }
    }

    func bodySnapshot() -> (maxBufferedBytes: Int, paused: Bool) {
        self.shared.withLockedValue { ($0.body.maxBufferedBytes, $0.body.flow == .paused) }
    }

    // MARK: Loop side

    /// Hands status and headers to `execute`. Returns false if nobody waits any more.
    ///
    /// The loop calls this after each `curl_multi_perform` pass rather than from the
    /// header callback, so a small response is handed over with its body already buffered
    /// (one task wakeup instead of three).
    func deliverHead() -> Bool {
        precondition(!self.headDelivered)
        self.headDelivered = true
        guard let waiting = self.takeHeadContinuation() else { return false }
        let response = UpstreamResponse(status: self.status, headers: self.headers, body: UpstreamBody(transfer: self))
        self.headers = []
        waiting.resume(returning: response)
        return true
    }

    /// The transfer completed successfully.
    func finish() {
        if !self.headComplete {
            // No header block was seen (cannot happen with HTTP/1.1 or 2); use curl's status.
            var code = 0
            if let easy { _ = tg_curl_easy_getinfo_long(easy.curl, CURLINFO_RESPONSE_CODE, &code) }
            self.status = code
            self.headComplete = true
        }
        switch self.shared.withLockedValue({ $0.body.finish() }) {
        case .none: break
        case .resume(let waiter): waiter.resume(returning: nil)
        case .fail(let waiter, let error): waiter.resume(throwing: error)
        }
        if !self.headDelivered {
            _ = self.deliverHead()
        }
    }

    /// The transfer failed (or was cancelled, timed out or shut down).
    func fail(_ error: UpstreamError) {
        guard self.headComplete else {
            self.headDelivered = true
            self.takeHeadContinuation()?.resume(throwing: error)
            return
        }
        switch self.shared.withLockedValue({ $0.body.fail(error) }) {
        case .none: break
        case .resume(let waiter): waiter.resume(returning: nil)
        case .fail(let waiter, let error): waiter.resume(throwing: error)
        }
        if !self.headDelivered {
            // The head arrived in this very pass: hand it over; the body then fails.
            _ = self.deliverHead()
        }
    }

    /// Which timeout, if any, has expired at `now`.
    func expiredTimeout(now: UInt64) -> UpstreamError? {
        if self.totalDeadline != 0, now >= self.totalDeadline {
            return .totalTimeout
        }
        if self.firstByteDeadline != 0, !self.headComplete, now >= self.firstByteDeadline {
            return .firstByteTimeout
        }
        if !self.curlPaused, now &- self.lastActivity >= self.idleNanoseconds, now > self.lastActivity {
            return .idleTimeout
        }
        return nil
    }

    /// Frees what curl held for this transfer and returns the easy handle to the pool.
    /// Called once the handle is off the multi handle (or never was on it), by whoever
    /// owns the transfer then.
    func releaseResources() {
        if let list = self.requestHeaders {
            curl_slist_free_all(list)
            self.requestHeaders = nil
        }
        self.requestBodyStorage?.release()
        self.requestBodyStorage = nil
        if let easy = self.easy {
            self.easy = nil
            self.loop.recycle(easy)
        }
        self.loopState = .finished
    }
}
