import CHiredis
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Connecting (loop thread)

extension ConnectionLoop {
    /// Sleeps until the next connect attempt is due, refusing requests that arrive
    /// meanwhile. Returns true when the loop must stop. The first attempt is due at once,
    /// and the requests queued for it stay queued.
    func waitForNextAttempt() -> Bool {
        while true {
            let now = monotonicNanoseconds()
            if now >= self.nextAttempt {
                return self.inbox.withLock { $0.lifecycle == .stopping }
            }
            self.pollDescriptors[0] = pollfd(fd: self.wakePipe.readDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&self.pollDescriptors, 1, Self.pollTimeout(until: self.nextAttempt, now: now)) > 0 {
                self.wakePipe.drain()
            }
            let stopping = self.takeInbox()
            // Only requests accepted just before the link went down can be here.
            for request in self.batch { request.complete(.failure(stopping ? .shutdown : .unavailable)) }
            self.batch.removeAll(keepingCapacity: true)
            if stopping { return true }
        }
    }

    /// One connect attempt, blocking for at most the connect timeout plus a command
    /// timeout per handshake reply. Requests queue for the first attempt; after that,
    /// callers are refused while this runs.
    func connect() {
        switch self.openConnection() {
        case .success(let context):
            self.context = context
            let firstConnect = !self.everConnected
            let replyDeadline = monotonicNanoseconds() + self.commandTimeout
            self.inbox.withLock { inbox in
                inbox.link = .connected
                // Calls made before the first connect waited for it (the task running the
                // client may start late): their time to get a reply starts now.
                if firstConnect {
                    for request in inbox.requests { request.extendDeadline(to: replyDeadline) }
                }
            }
            self.reconnectDelay = 0
            if self.outageReported {
                self.outageReported = false
                self.logger.info("Redis connection re-established")
            } else {
                self.logger.debug("Redis connected")
            }
            self.everConnected = true
        case .failure(let failure):
            let unsent = self.inbox.withLock { inbox -> [RedisRequest] in
                inbox.link = .disconnected
                let requests = inbox.requests
                inbox.requests = []
                return requests
            }
            for request in unsent { request.complete(.failure(.unavailable)) }
            if !self.outageReported {
                self.outageReported = true
                self.logger.warning(
                    self.everConnected ? "Redis reconnect failed; retrying" : "cannot connect to Redis; retrying in the background",
                    metadata: ["redis.error": "\(failure.reason)"]
                )
            } else {
                self.logger.debug("Redis connect attempt failed", metadata: ["redis.error": "\(failure.reason)"])
            }
            self.scheduleNextAttempt()
        }
    }

    private func scheduleNextAttempt() {
        let initial = self.configuration.initialReconnectDelay.clampedNanoseconds
        let maximum = max(initial, self.configuration.maximumReconnectDelay.clampedNanoseconds)
        self.reconnectDelay = self.reconnectDelay == 0 ? initial : min(maximum, self.reconnectDelay * 2)
        // Jitter down by up to half, so that gateway processes do not reconnect in step.
        let delay = UInt64.random(in: (self.reconnectDelay / 2)...self.reconnectDelay)
        self.nextAttempt = monotonicNanoseconds() + delay
    }

    struct ConnectFailure: Error {
        let reason: String
    }

    /// Connects, authenticates, selects the database and pings, all blocking with socket
    /// timeouts, then switches the socket to non-blocking for the loop.
    private func openConnection() -> Result<UnsafeMutablePointer<redisContext>, ConnectFailure> {
        let url = self.configuration.url
        let connectTimeout = Self.makeTimeval(nanoseconds: self.configuration.connectTimeout.clampedNanoseconds)
        let opened: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port):
            opened = redisConnectWithTimeout(host, Int32(port), connectTimeout)
        case .unix(let path):
            opened = redisConnectUnixWithTimeout(path, connectTimeout)
        }
        guard let context = opened else {
            return .failure(ConnectFailure(reason: "could not allocate a hiredis context"))
        }
        func fail(_ reason: String) -> Result<UnsafeMutablePointer<redisContext>, ConnectFailure> {
            redisFree(context)
            return .failure(ConnectFailure(reason: reason))
        }
        if context.pointee.err != 0 {
            return fail(Self.errorString(context))
        }
        guard redisSetTimeout(context, Self.makeTimeval(nanoseconds: self.commandTimeout)) == TG_REDIS_OK else {
            return fail("could not set the socket timeout: \(Self.errorString(context))")
        }
        if case .tcp = url.endpoint {
            _ = redisEnableKeepAlive(context)
        }
        for (name, command) in Self.handshake(for: url) {
            let raw = command.withArgv(scratch: &self.argvScratch) { argc, argv, lengths in
                redisCommandArgv(context, argc, argv, lengths)
            }
            guard let raw else {
                return fail("\(name) failed: \(Self.errorString(context))")
            }
            let reply = RedisReply(hiredis: raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            if case .error(let message) = reply {
                return fail("\(name) failed: \(message)")
            }
        }
        guard tg_redis_set_nonblocking(context) == 0 else {
            return fail("could not make the socket non-blocking (errno \(errno))")
        }
        return .success(context)
    }

    /// AUTH and SELECT as the URL asks, then PING: a server that accepts connections but
    /// does not answer (stopped, overloaded) does not count as connected.
    private static func handshake(for url: RedisURL) -> [(String, RedisCommand)] {
        var commands: [(String, RedisCommand)] = []
        if let password = url.password {
            let arguments = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            commands.append(("AUTH", RedisCommand(arguments)))
        }
        if url.database != 0 {
            commands.append(("SELECT \(url.database)", RedisCommand(["SELECT", String(url.database)])))
        }
        commands.append(("PING", RedisCommand(["PING"])))
        return commands
    }

    static func makeTimeval(nanoseconds: UInt64) -> timeval {
        let seconds = min(nanoseconds / 1_000_000_000, UInt64(Int32.max))
        let microseconds = (nanoseconds % 1_000_000_000) / 1000
        return timeval(tv_sec: .init(seconds), tv_usec: .init(microseconds))
    }
}
