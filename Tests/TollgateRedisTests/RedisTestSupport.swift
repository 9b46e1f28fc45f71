import Logging
import Synchronization
import Testing
import TollgateRedis
import TollgateTestSupport

/// Runs `body` with a client of `server` that is running (its `run()` in a child task), and
/// shuts the client down afterwards.
func withClient<T>(
    _ server: RedisServerProcess,
    url: String? = nil,
    connections: Int = 1,
    commandTimeout: Duration = .seconds(10),
    logger: Logger = quietLogger,
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let configuration = RedisClient.Configuration(
        url: try RedisURL(url ?? server.url),
        connections: connections,
        connectTimeout: .seconds(2),
        commandTimeout: commandTimeout
    )
    let client = RedisClient(configuration: configuration, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        do {
            let result = try await body(client)
            client.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            client.shutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "redis-test")
    logger.logLevel = .critical
    return logger
}()

/// The result of a call, for asserting on its error. (Closures infer a typed throw only
/// with the FullTypedThrows feature, so `body` throws `any Error`.)
func outcome(_ body: () async throws -> RedisReply) async -> Result<RedisReply, RedisError> {
    do {
        return .success(try await body())
    } catch {
        guard let redisError = error as? RedisError else {
            Issue.record("expected a RedisError, got \(error)")
            return .failure(.invalidCommand("unexpected error \(error)"))
        }
        return .failure(redisError)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes (a generous bound for a
/// shared, noisy machine, not a timing assertion). Returns whether it held.
func eventually(within timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while clock.now < end {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// Records log messages, to check that loss and recovery are each logged once.
final class CapturedLogs: Sendable {
    private let entries = Mutex<[(Logger.Level, String)]>([])

    var logger: Logger {
        var logger = Logger(label: "redis-test") { _ in CapturingHandler(sink: self) }
        logger.logLevel = .debug
        return logger
    }

    func append(_ level: Logger.Level, _ message: String) {
        self.entries.withLock { $0.append((level, message)) }
    }

    func count(_ level: Logger.Level, containing text: String) -> Int {
        self.entries.withLock { entries in entries.filter { $0.0 == level && $0.1.contains(text) }.count }
    }
}

private struct CapturingHandler: LogHandler {
    let sink: CapturedLogs
    var logLevel = Logger.Level.debug
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.sink.append(event.level, "\(event.message)")
    }
}
