import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import TollgateUpstream

#if canImport(Glibc)
import Foundation
import Glibc
#endif

/// Connection failures, timeouts and shutdown.
@Suite(.timeLimit(.minutes(2)))
struct UpstreamFailureTests {
    /// Never answers (until the test ends).
    static let stallBeforeHead: TestHTTPServer.Handler = { _, _ in
        try await Task.sleep(for: .seconds(3600))
    }

    /// Sends the head, then nothing.
    static let stallAfterHead: TestHTTPServer.Handler = { _, writer in
        try await writer.head(.ok, [("Content-Type", "text/event-stream")])
        try await writer.body("data: first\n\n")
        try await Task.sleep(for: .seconds(3600))
    }

    @Test func connectRefused() async throws {
        // A port bound but never listened on: connects are refused, and no other test or
        // process can take it while the socket is held.
        let (socket, port) = try Self.boundPortWithoutListener()
        defer { close(socket) }
        try await withClient { client in
            let error = await thrownError {
                _ = try await client.execute(UpstreamRequest(url: "http://127.0.0.1:\(port)/"))
            }
            #expect(error as? UpstreamError == .connectFailed)
        }
    }

    static func boundPortWithoutListener() throws -> (socket: Int32, port: Int) {
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    #if os(Linux)
    @Test func connectTimeout() async throws {
        // A listener whose accept queue is full drops further SYNs, so connect() hangs.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                try #require(bind(listener, raw, length) == 0)
                try #require(listen(listener, 0) == 0)
                try #require(getsockname(listener, raw, &length) == 0)
            }
        }
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<3 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            fillers.append(filler)
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) }
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        try await withClient { client in
            let error = await thrownError {
                _ = try await client.execute(
                    UpstreamRequest(url: "http://127.0.0.1:\(port)/", timeouts: .init(connect: .milliseconds(300)))
                )
            }
            #expect(error as? UpstreamError == .connectTimeout)
        }
    }
    #endif

    @Test func idleTimeoutBeforeHead() async throws {
        try await TestHTTPServer.with(Self.stallBeforeHead) { server in
            try await withClient { client in
                let error = await thrownError {
                    _ = try await client.execute(
                        UpstreamRequest(url: server.url("/"), timeouts: .init(idle: .milliseconds(300)))
                    )
                }
                #expect(error as? UpstreamError == .idleTimeout)
                try await eventually("the server to see the connection closed") { server.stats.connectionsClosed == 1 }
            }
        }
    }

    @Test func idleTimeoutDuringBody() async throws {
        try await TestHTTPServer.with(Self.stallAfterHead) { server in
            try await withClient { client in
                // Only the silence after the head and first chunk should trip it. On a loaded
                // machine even those may take longer than the timeout: then the attempt says
                // nothing and the next one waits longer.
                var firstChunk: String?
                for idle in [Duration.seconds(2), .seconds(8), .seconds(30), .seconds(120)] {
                    firstChunk = nil
                    let error = await thrownError {
                        let response = try await client.execute(UpstreamRequest(url: server.url("/"), timeouts: .init(idle: idle)))
                        var iterator = response.body.makeAsyncIterator()
                        firstChunk = try await iterator.next().map { String(buffer: $0) }
                        _ = try await iterator.next()
                    }
                    #expect(error as? UpstreamError == .idleTimeout)
                    if firstChunk != nil { break }
                }
                #expect(firstChunk == "data: first\n\n")
            }
        }
    }

    @Test func totalTimeout() async throws {
        try await TestHTTPServer.with(Self.stallAfterHead) { server in
            try await withClient { client in
                // Whether it trips before or after the head, it is the total timeout.
                let error = await thrownError {
                    let response = try await client.execute(
                        UpstreamRequest(url: server.url("/"), timeouts: .init(total: .milliseconds(400)))
                    )
                    for try await _ in response.body {}
                }
                #expect(error as? UpstreamError == .totalTimeout)
            }
        }
    }

    @Test func connectionCutMidBody() async throws {
        let handler: TestHTTPServer.Handler = { request, writer in
            if request.uri == "/chunked" {
                try await writer.head(.ok)  // chunked
            } else {
                try await writer.head(.ok, [("Content-Length", "1000")])
            }
            try await writer.body(patternBytes(offset: 0, count: 100))
            throw CloseConnection()
        }
        try await TestHTTPServer.with(handler) { server in
            try await withClient { client in
                for path in ["/length", "/chunked"] {
                    let response = try await client.execute(UpstreamRequest(url: server.url(path)))
                    var received = 0
                    let error = await thrownError {
                        for try await chunk in response.body { received += chunk.readableBytes }
                    }
                    #expect(error as? UpstreamError == .connectionClosed, "\(path)")
                    #expect(received == 100, "\(path)")
                }
            }
        }
    }

    @Test func connectionClosedBeforeHead() async throws {
        let handler: TestHTTPServer.Handler = { _, _ in throw CloseConnection() }
        try await TestHTTPServer.with(handler) { server in
            try await withClient { client in
                let error = await thrownError { _ = try await client.execute(UpstreamRequest(url: server.url("/"))) }
                #expect(error as? UpstreamError == .connectionClosed)
            }
        }
    }

    @Test func shutdownFailsInFlightTransfers() async throws {
        try await TestHTTPServer.with({ request, writer in
            if request.uri == "/body" {
                try await Self.stallAfterHead(request, writer)
            } else {
                try await Self.stallBeforeHead(request, writer)
            }
        }) { server in
            let client = UpstreamClient(logger: .init(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                let run = Task { try await client.run() }
                // Streaming: head received, body pending.
                let streaming = try await client.execute(UpstreamRequest(url: server.url("/body")))
                var iterator = streaming.body.makeAsyncIterator()
                _ = try await iterator.next()
                // Waiting for the head.
                group.addTask {
                    let error = await thrownError { _ = try await client.execute(UpstreamRequest(url: server.url("/head"))) }
                    #expect(error as? UpstreamError == .shutdown)
                }
                try await eventually("both requests to reach the server") { server.stats.requests.count == 2 }

                run.cancel()
                try await run.value

                let error = await thrownError { _ = try await iterator.next() }
                #expect(error as? UpstreamError == .shutdown)
                try await group.waitForAll()
                let late = await thrownError { _ = try await client.execute(UpstreamRequest(url: server.url("/head"))) }
                #expect(late as? UpstreamError == .shutdown)
            }
        }
    }

    @Test func shutdownClosesIdleConnections() async throws {
        try await TestHTTPServer.with(UpstreamClientTests.echo) { server in
            try await withClient { client in
                let response = try await client.execute(UpstreamRequest(url: server.url("/")))
                _ = try await response.collectBody(upTo: 100)
            }
            // The client stopped (run() returned): its cached keep-alive connection is gone.
            #expect(server.stats.connectionsOpened == 1)
            try await eventually("the server to see the connection closed") { server.stats.connectionsClosed == 1 }
        }
    }

    @Test func requestsSubmittedBeforeRunWaitForIt() async throws {
        try await TestHTTPServer.with(UpstreamClientTests.echo) { server in
            let client = UpstreamClient(logger: .init(label: "test"))
            async let response = client.execute(UpstreamRequest(url: server.url("/early")))
            try await Task.sleep(for: .milliseconds(20))
            let run = Task { try await client.run() }
            #expect(try await response.status == 200)
            run.cancel()
            try await run.value
        }
    }
}
