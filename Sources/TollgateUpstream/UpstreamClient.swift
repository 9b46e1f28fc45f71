import Logging
import NIOCore
import ServiceLifecycle

/// HTTP client for upstream providers, built on libcurl.
///
/// One curl multi handle is driven by one dedicated thread (see `CurlLoop`); callers
/// submit transfers to it and get status, headers and body chunks back. Connections are
/// kept alive and reused, HTTP/2 is used where a TLS server offers it.
///
/// Run it as a `Service` (in a `ServiceGroup`, before the services that use it so that it
/// shuts down after them). Transfers submitted before ``run()`` starts wait for it;
/// transfers still running at shutdown fail with ``UpstreamError/shutdown``.
public final class UpstreamClient: Sendable, Service {
    public let configuration: Configuration
    private let loop: CurlLoop

    public init(configuration: Configuration = .init(), logger: Logger) {
        self.configuration = configuration
        self.loop = CurlLoop(configuration: configuration, logger: logger)
    }

    /// Drives the transfer loop thread until graceful shutdown or task cancellation, then
    /// fails outstanding transfers with ``UpstreamError/shutdown`` and closes every
    /// connection before returning. Call it once.
    public func run() async throws {
        try self.loop.start()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await self.loop.waitUntilStopped()
            } onCancel: {
                self.loop.requestStop()
            }
        } onGracefulShutdown: {
            self.loop.requestStop()
        }
    }

    /// Sends `request` and returns as soon as the status and headers of the final
    /// response arrived; the body streams after, through ``UpstreamResponse/body``.
    ///
    /// Throws ``UpstreamError``, or `CancellationError` if the task is cancelled before
    /// the headers arrived (the transfer is then cancelled and its connection closed).
    public func execute(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        try Task.checkCancellation()
        let transfer = try self.loop.makeTransfer(for: request)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                transfer.start(continuation)
            }
        } onCancel: {
            transfer.cancelHead()
        }
    }
}
