import Hummingbird
import Logging
import ServiceLifecycle
import TollgateUpstream

/// Runs services (an application, an HTTP client loop...) for the duration of `body`, then
/// shuts them down. `start` builds them and is handed a callback to report the bound port.
public enum LiveServer {
    public static func run<T: Sendable>(
        services extraServices: [any Service] = [],
        _ start: (@escaping @Sendable (Int) async -> Void) throws -> any Service,
        body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        try await self.run(services: extraServices, start) { port, _ in try await body(port) }
    }

    /// Like `run`, and hands `body` a function that starts the graceful shutdown early, as
    /// SIGTERM would, so tests can watch in-flight work finish.
    public static func run<T: Sendable>(
        services extraServices: [any Service] = [],
        _ start: (@escaping @Sendable (Int) async -> Void) throws -> any Service,
        body: @Sendable (Int, _ shutdown: @escaping @Sendable () async -> Void) async throws -> T
    ) async throws -> T {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try start { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        var logger = Logger(label: "test-services")
        logger.logLevel = .error
        let group = ServiceGroup(services: extraServices + [app], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = portStream.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                await group.triggerGracefulShutdown()
                throw LiveServerError.didNotStart
            }
            do {
                let result = try await body(port) { await group.triggerGracefulShutdown() }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }
}

enum LiveServerError: Error { case didNotStart }
