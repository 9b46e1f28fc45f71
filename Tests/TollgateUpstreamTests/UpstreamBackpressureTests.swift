import NIOCore
import NIOHTTP1
import Testing

@testable import TollgateUpstream

/// A slow consumer pauses the transfer; a consumer that goes away cancels it.
@Suite(.timeLimit(.minutes(2)))
struct UpstreamBackpressureTests {
    /// Sends `total` pattern bytes in 16 KiB writes.
    static func largeBody(total: Int, chunked: Bool) -> TestHTTPServer.Handler {
        { _, writer in
            try await writer.head(.ok, chunked ? [] : [("Content-Length", "\(total)")])
            var offset = 0
            while offset < total {
                let count = min(16 * 1024, total - offset)
                try await writer.body(patternBytes(offset: offset, count: count))
                offset += count
            }
            try await writer.end()
        }
    }

    /// Writes small chunks until the connection goes away.
    static let endless: TestHTTPServer.Handler = { _, writer in
        try await writer.head(.ok, [("Content-Type", "text/event-stream")])
        while true {
            try await writer.body("data: tick\n\n")
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test(arguments: [false, true])
    func slowConsumerBoundsBufferedBytes(chunked: Bool) async throws {
        let total = 16 << 20
        let high = 64 * 1024
        let configuration = UpstreamClient.Configuration(bodyBufferHighWatermark: high, bodyBufferLowWatermark: 16 * 1024)
        try await TestHTTPServer.with(Self.largeBody(total: total, chunked: chunked)) { server in
            try await withClient(configuration) { client in
                let response = try await client.execute(UpstreamRequest(url: server.url("/large")))
                var iterator = response.body.makeAsyncIterator()
                var received = try #require(try await iterator.next()).readableBytes

                // Stop reading: the transfer must pause (curl stops reading the socket)
                // instead of buffering the 16 MiB. The bound allows one more curl write
                // (at most 16 KiB) past the high watermark.
                try await eventually("the transfer to pause") { response.body.isProducerPaused }
                #expect(response.body.maxBufferedBytes <= high + 64 * 1024)

                // Read the rest; everything arrives intact and in order.
                var intact = true
                while let chunk = try await iterator.next() {
                    intact = intact && isPattern(chunk, offset: received)
                    received += chunk.readableBytes
                }
                #expect(received == total)
                #expect(intact)
                #expect(response.body.maxBufferedBytes <= high + 64 * 1024)
            }
        }
    }

    @Test func droppingTheIteratorClosesTheConnection() async throws {
        try await TestHTTPServer.with(Self.endless) { server in
            try await withClient { client in
                let response = try await client.execute(UpstreamRequest(url: server.url("/stream")))
                do {
                    var iterator = response.body.makeAsyncIterator()
                    for _ in 0..<3 { _ = try await iterator.next() }
                }
                try await eventually("the server to see the connection closed") { server.stats.connectionsClosed == 1 }
                _ = response
            }
        }
    }

    @Test func droppingTheResponseClosesTheConnection() async throws {
        try await TestHTTPServer.with(Self.endless) { server in
            try await withClient { client in
                _ = try await client.execute(UpstreamRequest(url: server.url("/stream")))
                try await eventually("the server to see the connection closed") { server.stats.connectionsClosed == 1 }
            }
        }
    }

    @Test func cancellingTheConsumerClosesTheConnection() async throws {
        try await TestHTTPServer.with(Self.endless) { server in
            try await withClient { client in
                let response = try await client.execute(UpstreamRequest(url: server.url("/stream")))
                let firstChunk = Signal()
                let consumer = Task {
                    var count = 0
                    for try await _ in response.body {
                        count += 1
                        if count == 1 { firstChunk.fire() }
                    }
                }
                try await firstChunk.wait()
                consumer.cancel()
                let error = await thrownError { try await consumer.value }
                #expect(error as? UpstreamError == .cancelled)
                try await eventually("the server to see the connection closed") { server.stats.connectionsClosed == 1 }
            }
        }
    }

    @Test func cancellingExecuteWhileWaitingForHeadClosesTheConnection() async throws {
        try await TestHTTPServer.with(UpstreamFailureTests.stallBeforeHead) { server in
            try await withClient { client in
                let caller = Task { try await client.execute(UpstreamRequest(url: server.url("/slow"))) }
                try await eventually("the request to reach the server") { server.stats.requests.count == 1 }
                caller.cancel()
                let error = await thrownError { _ = try await caller.value }
                #expect(error is CancellationError)
                try await eventually("the server to see the connection closed") { server.stats.connectionsClosed == 1 }
            }
        }
    }

    @Test func cancelledConnectionIsNotReused() async throws {
        let handler: TestHTTPServer.Handler = { request, writer in
            if request.uri == "/stream" {
                try await Self.endless(request, writer)
            } else {
                try await writer.respond(body: ByteBuffer(string: "ok"))
            }
        }
        try await TestHTTPServer.with(handler) { server in
            try await withClient { client in
                _ = try await client.execute(UpstreamRequest(url: server.url("/stream")))
                let response = try await client.execute(UpstreamRequest(url: server.url("/ok")))
                #expect(String(buffer: try await response.collectBody(upTo: 10)) == "ok")
                #expect(server.stats.connectionsOpened == 2)
            }
        }
    }
}
