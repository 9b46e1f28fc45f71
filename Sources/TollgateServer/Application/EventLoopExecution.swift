import HummingbirdCore
import Logging
import NIOCore

/// Runs a connection's request handling on the event loop that owns the connection.
///
/// Hummingbird starts each connection's task on Swift's global pool, so every request used to
/// cross threads twice more than it needs to: from the event loop that read it to a pool
/// thread, and back to the event loop to write the answer. With the connection's event loop
/// as the task's preferred executor, parsing, routing, cost controls and the response run
/// where the bytes already are (bench/RESULTS.md: 1.9 to 0.5 context switches per request).
/// So a handler must not block: upstream calls wait on the curl loop thread, embeddings on
/// their worker pool, SQLite and Redis on their own queues, and requests with large bodies do
/// their parsing and counting on the global pool (`RequestWork`). (`POST /admin/reload` reads
/// the routes directory in place: a few small files, on an operator's request.) Unstructured
/// tasks a handler starts run on the global pool as before, unless they name an executor (a
/// shared store's settlement names the request's loop: `CostControl.settle`).
struct EventLoopBoundChannel<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        self.base.setup(channel: channel, logger: logger)
    }

    func handle(value: Base.Value, logger: Logger) async {
        let executor = EventLoopTaskExecutor(value.channel.eventLoop)
        await withTaskExecutorPreference(executor) {
            await self.base.handle(value: value, logger: logger)
        }
    }
}

/// Where a request's own CPU work runs.
enum RequestWork {
    /// Bodies up to this size are handled on the connection's event loop. Parsing, counting
    /// the prompt's tokens and translating grow with the body; above this, that work would
    /// hold up every other connection of the loop, streams included, so it moves to Swift's
    /// global pool and leaves the loop to its I/O.
    static let eventLoopBodyLimit = 16 << 10

    /// Runs a request's handling where a body of `bodySize` bytes belongs.
    static func run<Result>(bodySize: Int, _ work: () async throws -> Result) async throws -> Result {
        if bodySize <= Self.eventLoopBodyLimit { return try await work() }
        return try await withTaskExecutorPreference(globalConcurrentExecutor) { try await work() }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1, with each connection's requests handled on its own event loop.
    static func http1OnEventLoop(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in
            EventLoopBoundChannel(base: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}

/// A `TaskExecutor` that runs jobs on one NIO event loop. Jobs enqueued from the loop's own
/// thread run in its current tick's task queue: no wake-up, no thread switch.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
