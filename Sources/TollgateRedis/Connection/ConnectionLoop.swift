import CHiredis
import Logging
import TollgateThreads
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One Redis connection and the thread that drives it.
///
/// Callers append requests to a locked inbox and, when the loop may be asleep, write a byte
/// to its wake pipe. The thread loops: take the whole inbox, append every command to the
/// hiredis output buffer (`redisAppendCommandArgv`, so everything queued goes out as one
/// pipelined write), write what the socket takes, then sleep in poll(2) on the socket and
/// the wake pipe until a reply arrives, new requests come in, or the oldest outstanding
/// request's deadline passes. Replies are matched to requests in send order.
///
/// The connect and the handshake run blocking (hiredis's synchronous API with socket
/// timeouts); after that the socket is non-blocking so the thread can enforce deadlines and
/// keep writing new commands while replies are outstanding. While the connection is down,
/// callers are refused at once with ``RedisError/unavailable`` and the thread reconnects
/// with jittered exponential backoff.
///
/// `@unchecked Sendable`: the fields under "Loop-confined" are only touched on the loop
/// thread (and the hiredis context is created, used and freed there); `inbox` is behind
/// its mutex, and `wakePipe` is safe from any thread. No lock is held across I/O.
final class ConnectionLoop: @unchecked Sendable {
    enum Lifecycle {
        case idle
        case running
        case stopping
        case stopped
    }

    enum Link {
        /// The first attempt has not finished: requests queue for it.
        case connecting
        case connected
        /// Requests are refused with `unavailable` until a reconnect succeeds.
        case disconnected
    }

    struct Inbox {
        var requests: [RedisRequest] = []
        /// A wakeup was written (or is about to be) that the loop has not taken yet.
        var wakePending = false
        var lifecycle = Lifecycle.idle
        var link = Link.connecting
        var exitWaiter: UnsafeContinuation<Void, Never>?
    }

    let index: Int
    let configuration: RedisClient.Configuration
    let logger: Logger
    let inbox = Mutex(Inbox())
    let wakePipe = WakePipe()
    let commandTimeout: UInt64
    /// Calls handed to the connection so far (each is written to the socket in the same
    /// pass): lets a test know a call left before it pauses or cancels anything.
    let sentCalls = Atomic<Int>(0)

    // MARK: Loop-confined

    var context: UnsafeMutablePointer<redisContext>?
    /// Sent requests waiting for replies, oldest first.
    var inFlight = RequestQueue()
    /// Replies collected so far for `inFlight.first` (a pipeline has several).
    var headReplies: [RedisReply] = []
    var batch: [RedisRequest] = []
    /// The hiredis output buffer holds bytes not yet written.
    var outputPending = false
    var argvScratch: [UnsafePointer<CChar>?] = []
    var pollDescriptors = [pollfd(), pollfd()]
    /// 0 until the first failed attempt after a loss: the first reconnect is immediate.
    var reconnectDelay: UInt64 = 0
    var nextAttempt: UInt64 = 0
    var everConnected = false
    /// A warning went out for the current outage; the recovery is logged once, at info.
    var outageReported = false

    init(index: Int, configuration: RedisClient.Configuration, logger: Logger) {
        self.index = index
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "redis.connection"] = "\(index)"
        self.logger = logger
        self.commandTimeout = configuration.commandTimeout.clampedNanoseconds
        self.batch.reserveCapacity(64)
        self.argvScratch.reserveCapacity(16)
    }

    deinit {
        // Only reached with a context if the thread never ran; it frees its own otherwise.
        if let context { redisFree(context) }
    }

    // MARK: Lifecycle (any thread)

    /// Starts the thread. Returns false if the loop was started or stopped before.
    func start() throws(LoopThread.SpawnError) -> Bool {
        let shouldStart = self.inbox.withLock { inbox -> Bool in
            guard inbox.lifecycle == .idle else { return false }
            inbox.lifecycle = .running
            return true
        }
        guard shouldStart else { return false }
        do {
            try LoopThread.spawn(name: "tollgate-redis-\(self.index)", blockSIGPIPE: true) { self.runLoop() }
        } catch {
            self.inbox.withLock { $0.lifecycle = .idle }
            self.requestStop()
            throw error
        }
        return true
    }

    func requestStop() {
        let (wake, orphans, waiter) = self.inbox.withLock { inbox -> (Bool, [RedisRequest], UnsafeContinuation<Void, Never>?) in
            switch inbox.lifecycle {
            case .idle:
                // Never ran: nothing else will answer what was queued.
                inbox.lifecycle = .stopped
                inbox.link = .disconnected
                let orphans = inbox.requests
                inbox.requests = []
                let waiter = inbox.exitWaiter
                inbox.exitWaiter = nil
                return (false, orphans, waiter)
            case .running:
                inbox.lifecycle = .stopping
                return (true, [], nil)
            case .stopping, .stopped:
                return (false, [], nil)
            }
        }
        if wake { self.wakePipe.wake() }
        for request in orphans { request.complete(.failure(.shutdown)) }
        waiter?.resume()
    }

    func waitUntilStopped() async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let stopped = self.inbox.withLock { inbox -> Bool in
                if inbox.lifecycle == .stopped { return true }
                inbox.exitWaiter = continuation
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    var isConnected: Bool {
        self.inbox.withLock { $0.link == .connected }
    }

    /// Queues `request`, or says why not: `unavailable` while disconnected, `shutdown`
    /// once stopping. Requests queued before the loop runs wait for its first connect.
    func submit(_ request: RedisRequest) -> RedisError? {
        let (error, wake) = self.inbox.withLock { inbox -> (RedisError?, Bool) in
            switch inbox.lifecycle {
            case .stopping, .stopped:
                return (.shutdown, false)
            case .idle, .running:
                break
            }
            switch inbox.link {
            case .disconnected:
                return (.unavailable, false)
            case .connecting, .connected:
                inbox.requests.append(request)
                let wake = inbox.lifecycle == .running && !inbox.wakePending
                if wake { inbox.wakePending = true }
                return (nil, wake)
            }
        }
        if wake { self.wakePipe.wake() }
        return error
    }

    // MARK: The loop (loop thread)

    private func runLoop() {
        while true {
            if self.context == nil {
                if self.waitForNextAttempt() { break }
                self.connect()
            } else if self.serviceConnection() {
                break
            }
        }
        self.shutDown()
    }

    /// Moves the inbox into `batch`. Returns true when the loop must stop.
    func takeInbox() -> Bool {
        self.inbox.withLock { inbox -> Bool in
            swap(&inbox.requests, &self.batch)
            inbox.wakePending = false
            return inbox.lifecycle == .stopping
        }
    }

    /// One pass over a live connection. Returns true when the loop must stop.
    private func serviceConnection() -> Bool {
        guard let context = self.context else { return false }
        if self.takeInbox() { return true }
        let now = monotonicNanoseconds()
        if !self.batch.isEmpty {
            let sent = self.append(self.batch, to: context, now: now)
            self.batch.removeAll(keepingCapacity: true)
            guard sent else { return false }
        }
        if self.outputPending {
            var done: Int32 = 0
            guard redisBufferWrite(context, &done) == TG_REDIS_OK else {
                self.dropConnection(.connectionLost, reason: "write failed: \(Self.errorString(context))")
                return false
            }
            self.outputPending = done == 0
        }
        if let head = self.inFlight.first, head.deadline <= now {
            self.dropConnection(.timeout, reason: "no reply within the command timeout")
            return false
        }

        self.pollDescriptors[0] = pollfd(fd: self.wakePipe.readDescriptor, events: Int16(POLLIN), revents: 0)
        let socketEvents = self.outputPending ? Int16(POLLIN | POLLOUT) : Int16(POLLIN)
        self.pollDescriptors[1] = pollfd(fd: context.pointee.fd, events: socketEvents, revents: 0)
        let timeout = self.inFlight.first.map { Self.pollTimeout(until: $0.deadline, now: now) } ?? -1
        let ready = poll(&self.pollDescriptors, 2, timeout)
        guard ready > 0 else {
            if ready < 0, errno != EINTR {
                self.dropConnection(.connectionLost, reason: "poll failed (errno \(errno))")
            }
            return false
        }
        if self.pollDescriptors[0].revents != 0 {
            self.wakePipe.drain()
        }
        let events = Int32(self.pollDescriptors[1].revents)
        if events & POLLNVAL != 0 {
            self.dropConnection(.connectionLost, reason: "socket closed")
        } else if events & (POLLIN | POLLHUP | POLLERR) != 0 {
            guard redisBufferRead(context) == TG_REDIS_OK else {
                self.dropConnection(.connectionLost, reason: Self.errorString(context))
                return false
            }
            self.deliverReplies(context)
        }
        return false
    }

    /// Appends the commands of `requests` to the output buffer and records them as sent.
    /// Returns false if the connection was dropped.
    private func append(_ requests: [RedisRequest], to context: UnsafeMutablePointer<redisContext>, now: UInt64) -> Bool {
        for (position, request) in requests.enumerated() {
            if request.isCompleted { continue }  // cancelled before it was sent
            if request.deadline <= now {
                request.complete(.failure(.timeout))
                continue
            }
            // Recorded first so that a failure below fails it with the rest.
            self.inFlight.append(request)
            self.sentCalls.add(1, ordering: .relaxed)
            self.outputPending = true
            for command in request.commands {
                let appended = command.withArgv(scratch: &self.argvScratch) { argc, argv, lengths in
                    redisAppendCommandArgv(context, argc, argv, lengths)
                }
                guard appended == TG_REDIS_OK else {
                    self.dropConnection(.connectionLost, reason: "could not buffer a command (out of memory)")
                    for unsent in requests[(position + 1)...] { unsent.complete(.failure(.unavailable)) }
                    return false
                }
            }
        }
        return true
    }

    /// Hands every complete reply the reader holds to its request.
    private func deliverReplies(_ context: UnsafeMutablePointer<redisContext>) {
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == TG_REDIS_OK else {
                self.dropConnection(.connectionLost, reason: "protocol error: \(Self.errorString(context))")
                return
            }
            guard let raw else { return }
            let reply = RedisReply(hiredis: raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            guard let head = self.inFlight.first else {
                self.dropConnection(.connectionLost, reason: "reply without a request: \(reply)")
                return
            }
            self.headReplies.append(reply)
            if self.headReplies.count == head.expectedReplies {
                _ = self.inFlight.removeFirst()
                let replies = self.headReplies
                self.headReplies = []
                head.complete(.success(replies))  // a no-op if it was cancelled meanwhile
            }
        }
    }

    /// Closes the connection: sent requests fail with `error`, queued ones with
    /// `unavailable`, and callers are refused until a reconnect succeeds.
    func dropConnection(_ error: RedisError, reason: String) {
        if let context = self.context {
            redisFree(context)
            self.context = nil
        }
        self.outputPending = false
        self.headReplies.removeAll()
        let sent = self.inFlight.removeAll()
        let unsent = self.inbox.withLock { inbox -> [RedisRequest] in
            inbox.link = .disconnected
            let requests = inbox.requests
            inbox.requests = []
            return requests
        }
        if !self.outageReported {
            self.outageReported = true
            self.logger.warning(
                "Redis connection lost; reconnecting",
                metadata: ["redis.error": "\(reason)", "redis.failed_calls": "\(sent.count + unsent.count)"]
            )
        }
        for request in sent { request.complete(.failure(error)) }
        for request in unsent { request.complete(.failure(.unavailable)) }
        self.reconnectDelay = 0
        self.nextAttempt = 0
    }

    private func shutDown() {
        if let context = self.context {
            redisFree(context)
            self.context = nil
        }
        let sent = self.inFlight.removeAll()
        let (queued, waiter) = self.inbox.withLock { inbox -> ([RedisRequest], UnsafeContinuation<Void, Never>?) in
            inbox.lifecycle = .stopped
            inbox.link = .disconnected
            let requests = inbox.requests
            inbox.requests = []
            let waiter = inbox.exitWaiter
            inbox.exitWaiter = nil
            return (requests, waiter)
        }
        for request in sent + self.batch + queued {
            request.complete(.failure(.shutdown))
        }
        self.batch.removeAll()
        self.logger.debug("Redis connection loop stopped")
        waiter?.resume()
    }

    // MARK: Helpers

    static func pollTimeout(until deadline: UInt64, now: UInt64) -> Int32 {
        guard deadline > now else { return 0 }
        return Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
    }

    static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
