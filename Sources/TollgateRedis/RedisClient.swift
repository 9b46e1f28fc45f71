import Logging
import ServiceLifecycle
import Synchronization

/// Redis client over hiredis whose blocking I/O never runs on the Swift concurrency pool.
///
/// Each connection has a dedicated thread (see `ConnectionLoop`); calls hand their
/// commands to it and are resumed from it. Everything queued while a connection is busy
/// goes out as one pipelined write, so many concurrent callers share one connection
/// cheaply. Not for blocking or pub/sub commands (`BLPOP`, `SUBSCRIBE`, `MONITOR`), which
/// would stall or desynchronise the shared connection.
///
/// Failure behaviour, for callers that fall back to local state:
/// - while a connection is down, calls fail at once with ``RedisError/unavailable`` (never
///   queued) and the thread reconnects with jittered exponential backoff; loss and recovery
///   are each logged once;
/// - no call waits longer than ``Configuration/commandTimeout`` for its reply
///   (``RedisError/timeout``), even if the server is stopped with SIGSTOP; the one
///   exception is a call made before the very first connect attempt finished, which waits
///   for that attempt (at most ``Configuration/connectTimeout`` plus the handshake) and
///   then has the whole command timeout for its reply;
/// - a cancelled caller is resumed at once with ``RedisError/cancelled``; the reply is read
///   and discarded when it arrives.
///
/// Run it as a `Service` (in a `ServiceGroup`, before the services that use it, so that it
/// shuts down after them), or call ``run()`` in a task and ``shutdown()`` to stop it. Calls
/// made before ``run()`` starts wait for its first connect attempt.
public final class RedisClient: Sendable, Service {
    public let configuration: Configuration
    private let logger: Logger
    private let loops: [ConnectionLoop]
    private let nextLoop = Atomic<UInt>(0)

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "redis.endpoint"] = "\(configuration.url)"
        self.logger = logger
        self.loops = (0..<max(1, configuration.connections)).map {
            ConnectionLoop(index: $0, configuration: configuration, logger: logger)
        }
    }

    // MARK: Lifecycle

    /// Starts the connection threads and waits for graceful shutdown, task cancellation
    /// or ``shutdown()``; then fails outstanding calls with ``RedisError/shutdown``, closes
    /// the connections and returns once every thread has finished. Call it once.
    public func run() async throws {
        do {
            for loop in self.loops {
                _ = try loop.start()
            }
        } catch {
            self.logger.error("Redis connection thread did not start", metadata: ["error": "\(error)"])
            self.shutdown()
            for loop in self.loops { await loop.waitUntilStopped() }
            throw error
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                for loop in self.loops { await loop.waitUntilStopped() }
            } onCancel: {
                self.shutdown()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Stops the client: outstanding and later calls fail with ``RedisError/shutdown``.
    /// Returns at once; ``run()`` returns when the threads have finished.
    public func shutdown() {
        for loop in self.loops { loop.requestStop() }
    }

    /// True while at least one connection is up (as of its last I/O; a server that died
    /// without closing the socket is noticed at the next call's timeout).
    public var isConnected: Bool {
        self.loops.contains { $0.isConnected }
    }

    /// Calls sent to Redis so far, over every connection (a call is counted once its
    /// commands are on their way; a cancelled call that never left is not).
    public var callsSent: Int {
        self.loops.reduce(0) { $0 + $1.sentCalls.load(ordering: .relaxed) }
    }

    // MARK: Commands

    /// Sends one command, such as `["SET", key, value]`, and returns its reply.
    ///
    /// An error reply from Redis is thrown as ``RedisError/reply(_:)``, never returned.
    public func send(_ arguments: [String]) async throws(RedisError) -> RedisReply {
        try await self.sendOne(RedisCommand(arguments))
    }

    /// ``send(_:)`` with binary-safe arguments.
    public func send(bytes arguments: [[UInt8]]) async throws(RedisError) -> RedisReply {
        try await self.sendOne(RedisCommand(arguments))
    }

    /// Sends the commands back to back on one connection and returns one reply per command,
    /// in order. Unlike ``send(_:)``, error replies come back as ``RedisReply/error(_:)``
    /// elements, since the other commands ran; the call throws only when the whole
    /// exchange failed (timeout, connection loss...). Not a transaction: other callers'
    /// commands may run in between (use `MULTI`/`EXEC` in the list, or a script, for that).
    public func pipeline(_ commands: [[String]]) async throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        return try await self.execute(commands.map(RedisCommand.init)).get()
    }

    /// Sends `PING`; throws unless Redis answers `PONG`. For health checks.
    public func ping() async throws(RedisError) {
        let reply = try await self.send(["PING"])
        guard reply == .status("PONG") else {
            throw .reply("unexpected PING reply: \(reply)")
        }
    }

    // MARK: Internals

    func sendOne(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        let reply = try await self.execute([command]).get()[0]
        if case .error(let message) = reply {
            throw .reply(message)
        }
        return reply
    }

    /// Runs `commands` as one request on one connection: all their replies, or why not.
    func execute(_ commands: [RedisCommand]) async -> RedisRequest.Outcome {
        for command in commands {
            if let reason = command.invalidReason { return .failure(.invalidCommand(reason)) }
        }
        if Task.isCancelled { return .failure(.cancelled) }
        let request = RedisRequest(commands: commands, deadline: monotonicNanoseconds() + self.loops[0].commandTimeout)
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<RedisRequest.Outcome, Never>) in
                guard request.install(continuation) else { return }
                if let refusal = self.dispatch(request) {
                    request.complete(.failure(refusal))
                }
            }
        } onCancel: {
            request.complete(.failure(.cancelled))
        }
    }

    /// Submits to the connections in turn, starting with the next in round-robin order,
    /// until one takes the request. Returns why none did.
    private func dispatch(_ request: RedisRequest) -> RedisError? {
        let count = UInt(self.loops.count)
        if count == 1 { return self.loops[0].submit(request) }
        let start = self.nextLoop.wrappingAdd(1, ordering: .relaxed).oldValue
        for offset in 0..<count {
            let refusal = self.loops[Int((start &+ offset) % count)].submit(request)
            guard refusal == .unavailable else { return refusal }
        }
        return .unavailable
    }
}
