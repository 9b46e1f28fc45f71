import NIOCore

/// The buffer between the loop thread (producer) and the task that iterates an
/// ``UpstreamBody`` (consumer), with byte-based high/low watermarks.
///
/// A pure state machine: every method returns what the caller must do (resume a
/// continuation, pause or resume the transfer, cancel it), so it is tested without I/O.
/// It lives inside the transfer's lock; the actions run after the lock is released.
struct BodyStreamState {
    /// Whether the producer may deliver more bytes.
    enum Flow: Equatable {
        case producing
        /// The buffer crossed the high watermark; the next write callback pauses the
        /// transfer unless the consumer drained below the low watermark meanwhile.
        case pauseRequested
        /// The write callback returned `CURL_WRITEFUNC_PAUSE`; the transfer must be
        /// unpaused (on the loop thread) once the buffer drains below the low watermark.
        case paused
    }

    enum Phase {
        case streaming
        case producerFinished
        case producerFailed(UpstreamError)
        /// The consuming task was cancelled; the next `next()` throws `.cancelled`.
        case consumerCancelled
        /// Nothing more to deliver: `next()` returns nil, the producer's bytes are dropped.
        case closed
    }

    enum YieldAction {
        /// Buffered; carry on.
        case accepted
        /// A consumer is suspended: hand it the chunk.
        case handOff(UnsafeContinuation<ByteBuffer?, any Error>, ByteBuffer)
        /// Do not take this chunk; return `CURL_WRITEFUNC_PAUSE` (curl delivers it again on unpause).
        case pause
        /// Nobody will read the chunk (consumer gone): swallow it.
        case drop
    }

    enum NextAction {
        case element(ByteBuffer, resumeProducer: Bool)
        case end
        case fail(UpstreamError)
        case suspend
    }

    enum TerminalAction {
        case none
        case resume(UnsafeContinuation<ByteBuffer?, any Error>)
        case fail(UnsafeContinuation<ByteBuffer?, any Error>, UpstreamError)
    }

    let highWatermark: Int
    let lowWatermark: Int
    private(set) var phase = Phase.streaming
    private(set) var flow = Flow.producing
    private var buffer = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    private(set) var bufferedBytes = 0
    /// The most bytes ever buffered at once (for tests and diagnostics).
    private(set) var maxBufferedBytes = 0
    private var waiter: UnsafeContinuation<ByteBuffer?, any Error>?
    private(set) var iteratorCreated = false

    init(highWatermark: Int, lowWatermark: Int) {
        self.highWatermark = max(1, highWatermark)
        self.lowWatermark = max(0, min(lowWatermark, self.highWatermark - 1))
    }

    // MARK: Producer (loop thread)

    mutating func yield(_ chunk: ByteBuffer) -> YieldAction {
        guard case .streaming = self.phase else { return .drop }
        if self.flow == .pauseRequested {
            if self.bufferedBytes > self.lowWatermark {
                self.flow = .paused
                return .pause
            }
            self.flow = .producing
        }
        if let waiter = self.waiter {
            // The buffer is empty whenever a consumer waits.
            self.waiter = nil
            return .handOff(waiter, chunk)
        }
        self.buffer.append(chunk)
        self.bufferedBytes += chunk.readableBytes
        self.maxBufferedBytes = max(self.maxBufferedBytes, self.bufferedBytes)
        if self.bufferedBytes >= self.highWatermark {
            self.flow = .pauseRequested
        }
        return .accepted
    }

    mutating func finish() -> TerminalAction {
        guard case .streaming = self.phase else { return .none }
        if let waiter = self.waiter {
            self.waiter = nil
            self.phase = .closed
            return .resume(waiter)
        }
        self.phase = .producerFinished
        return .none
    }

    mutating func fail(_ error: UpstreamError) -> TerminalAction {
        guard case .streaming = self.phase else { return .none }
        if let waiter = self.waiter {
            self.waiter = nil
            self.phase = .closed
            return .fail(waiter, error)
        }
        self.phase = .producerFailed(error)
        return .none
    }

    // MARK: Consumer

    mutating func claimIterator() {
        precondition(!self.iteratorCreated, "UpstreamBody can be iterated only once")
        self.iteratorCreated = true
    }

    /// Takes the next chunk or tells the caller to suspend (then call ``suspend(_:)``).
    mutating func next() -> NextAction {
        if let chunk = self.buffer.popFirst() {
            self.bufferedBytes -= chunk.readableBytes
            var resumeProducer = false
            if self.flow != .producing, self.bufferedBytes <= self.lowWatermark {
                resumeProducer = self.flow == .paused
                self.flow = .producing
            }
            return .element(chunk, resumeProducer: resumeProducer)
        }
        switch self.phase {
        case .streaming:
            return .suspend
        case .producerFinished, .closed:
            self.phase = .closed
            return .end
        case .producerFailed(let error):
            self.phase = .closed
            return .fail(error)
        case .consumerCancelled:
            self.phase = .closed
            return .fail(.cancelled)
        }
    }

    /// `next()` again, storing `continuation` if there is still nothing to deliver.
    mutating func suspend(_ continuation: UnsafeContinuation<ByteBuffer?, any Error>) -> NextAction {
        let action = self.next()
        if case .suspend = action {
            precondition(self.waiter == nil, "UpstreamBody iterated concurrently")
            self.waiter = continuation
        }
        return action
    }

    /// The consuming task was cancelled. Returns a waiter to fail with `.cancelled`, and
    /// whether the transfer is still running and must be cancelled.
    mutating func cancelConsumer() -> (waiter: UnsafeContinuation<ByteBuffer?, any Error>?, cancelTransfer: Bool) {
        let cancelTransfer: Bool
        switch self.phase {
        case .streaming: cancelTransfer = true
        case .producerFinished, .producerFailed: cancelTransfer = false
        case .consumerCancelled, .closed: return (nil, false)
        }
        self.dropBuffer()
        if let waiter = self.waiter {
            self.waiter = nil
            self.phase = .closed
            return (waiter, cancelTransfer)
        }
        self.phase = .consumerCancelled
        return (nil, cancelTransfer)
    }

    /// The body or its iterator was dropped. Returns whether the transfer must be cancelled.
    mutating func dropConsumer() -> Bool {
        let cancelTransfer: Bool
        if case .streaming = self.phase { cancelTransfer = true } else { cancelTransfer = false }
        self.dropBuffer()
        self.phase = .closed
        return cancelTransfer
    }

    private mutating func dropBuffer() {
        self.buffer.removeAll()
        self.bufferedBytes = 0
        self.flow = .producing
    }
}
