import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import TollgateUpstream

/// Runs a client (its loop thread) for the duration of `body`, then stops it.
func withClient<T: Sendable>(
    _ configuration: UpstreamClient.Configuration = .init(),
    _ body: (UpstreamClient) async throws -> T
) async throws -> T {
    var logger = Logger(label: "upstream-test")
    logger.logLevel = .warning
    let client = UpstreamClient(configuration: configuration, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        do {
            let result = try await body(client)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// Waits until `condition` holds; fails the test after a generous `timeout`.
func eventually(
    timeout: Duration = .seconds(20),
    _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() {
        guard clock.now < deadline else {
            Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// The error `body` throws, if any.
func thrownError(_ body: () async throws -> Void) async -> (any Error)? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}

/// Deterministic test bytes: byte `i` of a stream is `i % 251`.
private let patternSource: [UInt8] = (0..<(64 * 1024 + 251)).map { UInt8(truncatingIfNeeded: $0 % 251) }

func patternBytes(offset: Int, count: Int) -> ByteBuffer {
    precondition(count <= 64 * 1024)
    let start = offset % 251
    return ByteBuffer(bytes: patternSource[start..<(start + count)])
}

func isPattern(_ buffer: ByteBuffer, offset: Int) -> Bool {
    var buffer = buffer
    var offset = offset
    while buffer.readableBytes > 0 {
        let count = min(buffer.readableBytes, 64 * 1024)
        guard buffer.readSlice(length: count) == patternBytes(offset: offset, count: count) else { return false }
        offset += count
    }
    return true
}

/// A one-shot signal between a test server handler and the test.
final class Signal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (self.stream, self.continuation) = AsyncStream.makeStream(of: Void.self)
    }

    func fire() {
        self.continuation.yield()
        self.continuation.finish()
    }

    /// Returns when fired (or throws if the waiting task is cancelled first).
    func wait() async throws {
        for await _ in self.stream { return }
        try Task.checkCancellation()
    }
}

/// A value shared between a server handler and the test.
final class Locked<Value: Sendable>: Sendable {
    private let box: NIOLockedValueBox<Value>

    init(_ value: Value) {
        self.box = NIOLockedValueBox(value)
    }

    var value: Value {
        get { self.box.withLockedValue { $0 } }
        set { self.box.withLockedValue { $0 = newValue } }
    }
}
