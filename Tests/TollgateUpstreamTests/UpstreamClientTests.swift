import NIOCore
import NIOHTTP1
import Testing

@testable import TollgateUpstream

/// Round trips, streaming and connection reuse against a real HTTP server on loopback.
@Suite(.timeLimit(.minutes(2)))
struct UpstreamClientTests {
    /// Echoes the request: method and selected headers as response headers, body as body.
    static let echo: TestHTTPServer.Handler = { request, writer in
        var headers = [("X-Method", request.method)]
        for name in ["x-test", "content-type", "authorization"] {
            if let value = request.headers.first(name: name) { headers.append(("X-Echo-\(name)", value)) }
        }
        try await writer.respond(.ok, headers, body: request.body)
    }

    @Test func getRoundTrip() async throws {
        try await TestHTTPServer.with(Self.echo) { server in
            try await withClient { client in
                let response = try await client.execute(
                    UpstreamRequest(url: server.url("/echo"), headers: [("X-Test", "abc"), ("X-Empty", "")])
                )
                #expect(response.status == 200)
                #expect(response.header("x-method") == "GET")
                #expect(response.header("X-ECHO-X-TEST") == "abc")
                let body = try await response.collectBody(upTo: 1024)
                #expect(body.readableBytes == 0)

                let received = try #require(server.stats.requests.first)
                #expect(received.method == "GET")
                #expect(received.headers["x-empty"] == [""])
                // curl adds nothing the caller did not ask for.
                #expect(received.headers["accept"].isEmpty)
                #expect(received.headers["expect"].isEmpty)
                #expect(received.headers["user-agent"].isEmpty)
            }
        }
    }

    @Test func postRoundTrip() async throws {
        try await TestHTTPServer.with(Self.echo) { server in
            try await withClient { client in
                let payload = #"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#
                let response = try await client.execute(
                    UpstreamRequest(
                        method: "POST",
                        url: server.url("/v1/chat/completions"),
                        headers: [
                            ("Content-Type", "application/json"), ("Authorization", "Bearer sk-test"),
                            ("Content-Length", "999"),  // ignored: the client states the length itself
                        ],
                        body: ByteBuffer(string: payload)
                    )
                )
                #expect(response.status == 200)
                #expect(response.header("x-method") == "POST")
                #expect(response.header("x-echo-content-type") == "application/json")
                #expect(response.header("x-echo-authorization") == "Bearer sk-test")
                #expect(String(buffer: try await response.collectBody(upTo: 1 << 20)) == payload)

                let received = try #require(server.stats.requests.first)
                #expect(received.headers["content-length"] == ["\(payload.utf8.count)"])
                #expect(received.headers["expect"].isEmpty)
            }
        }
    }

    @Test func postWithoutContentTypeSendsNone() async throws {
        try await TestHTTPServer.with(Self.echo) { server in
            try await withClient { client in
                let response = try await client.execute(
                    UpstreamRequest(method: "PUT", url: server.url("/put"), body: ByteBuffer(string: "x"))
                )
                #expect(response.header("x-method") == "PUT")
                #expect(response.header("x-echo-content-type") == nil)
                #expect(String(buffer: try await response.collectBody(upTo: 10)) == "x")
            }
        }
    }

    @Test func errorStatusIsSurfacedAsIs() async throws {
        let handler: TestHTTPServer.Handler = { _, writer in
            try await writer.respond(
                .tooManyRequests,
                [("Retry-After", "7"), ("Content-Type", "application/json")],
                body: ByteBuffer(string: #"{"error":"rate_limited"}"#)
            )
        }
        try await TestHTTPServer.with(handler) { server in
            try await withClient { client in
                let response = try await client.execute(UpstreamRequest(method: "POST", url: server.url("/"), body: ByteBuffer()))
                #expect(response.status == 429)
                #expect(response.header("retry-after") == "7")
                #expect(response.headers.contains { $0.name == "Retry-After" && $0.value == "7" })
                #expect(String(buffer: try await response.collectBody(upTo: 1024)) == #"{"error":"rate_limited"}"#)
            }
        }
    }

    @Test func interimResponsesAreSkipped() async throws {
        let handler: TestHTTPServer.Handler = { _, writer in
            try await writer.head(HTTPResponseStatus(statusCode: 103), [("Link", "</style.css>; rel=preload")])
            try await writer.respond(.created, [("X-Final", "yes")], body: ByteBuffer(string: "done"))
        }
        try await TestHTTPServer.with(handler) { server in
            try await withClient { client in
                let response = try await client.execute(UpstreamRequest(url: server.url("/")))
                #expect(response.status == 201)
                #expect(response.header("x-final") == "yes")
                #expect(response.header("link") == nil)
                #expect(String(buffer: try await response.collectBody(upTo: 100)) == "done")
            }
        }
    }

    @Test func collectBodyEnforcesLimit() async throws {
        let handler: TestHTTPServer.Handler = { _, writer in
            try await writer.respond(body: patternBytes(offset: 0, count: 10_000))
        }
        try await TestHTTPServer.with(handler) { server in
            try await withClient { client in
                let response = try await client.execute(UpstreamRequest(url: server.url("/")))
                await #expect(throws: UpstreamError.responseTooLarge) {
                    _ = try await response.collectBody(upTo: 9_999)
                }
            }
        }
    }

    @Test func invalidHeaderIsRejectedWithoutLeakingIt() async throws {
        try await withClient { client in
            let error = await thrownError {
                _ = try await client.execute(
                    UpstreamRequest(url: "http://127.0.0.1:1/", headers: [("Authorization", "Bearer sk-secret\r\nX-Evil: 1")])
                )
            }
            let upstreamError = try #require(error as? UpstreamError)
            #expect(upstreamError == .invalidRequest)
            #expect(!"\(upstreamError)".contains("sk-secret"))
        }
    }

    @Test func chunksAreStreamedAsTheyArrive() async throws {
        let gates = [Signal(), Signal()]
        let lastSent = Locked(false)
        let handler: TestHTTPServer.Handler = { _, writer in
            try await writer.head(.ok, [("Content-Type", "text/event-stream")])
            for index in 0..<3 {
                try await writer.body("data: \(index)\n\n")
                if index < gates.count { try await gates[index].wait() }
            }
            lastSent.value = true
            try await writer.end()
        }
        try await TestHTTPServer.with(handler) { server in
            try await withClient { client in
                let response = try await client.execute(UpstreamRequest(url: server.url("/stream")))
                #expect(response.header("content-type") == "text/event-stream")
                var iterator = response.body.makeAsyncIterator()

                #expect(try await readEvent(&iterator) == "data: 0\n\n")
                // The server is blocked before sending more: this chunk was not buffered up.
                #expect(lastSent.value == false)
                gates[0].fire()
                #expect(try await readEvent(&iterator) == "data: 1\n\n")
                #expect(lastSent.value == false)
                gates[1].fire()
                #expect(try await readEvent(&iterator) == "data: 2\n\n")
                #expect(try await iterator.next() == nil)
            }
        }
    }

    @Test func keepAliveReusesTheConnection() async throws {
        try await TestHTTPServer.with(Self.echo) { server in
            try await withClient { client in
                for index in 0..<3 {
                    let response = try await client.execute(
                        UpstreamRequest(method: "POST", url: server.url("/echo"), body: ByteBuffer(string: "r\(index)"))
                    )
                    #expect(String(buffer: try await response.collectBody(upTo: 100)) == "r\(index)")
                }
                let stats = server.stats
                #expect(stats.connectionsOpened == 1)
                #expect(stats.requests.map(\.connection) == [0, 0, 0])
            }
        }
    }

    @Test func manyConcurrentTransfersComplete() async throws {
        try await TestHTTPServer.with(Self.echo) { server in
            try await withClient { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            let payload = "payload-\(index)-" + String(repeating: "x", count: index * 10)
                            let response = try await client.execute(
                                UpstreamRequest(method: "POST", url: server.url("/echo/\(index)"), body: ByteBuffer(string: payload))
                            )
                            #expect(response.status == 200)
                            #expect(String(buffer: try await response.collectBody(upTo: 1 << 20)) == payload)
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(server.stats.requests.count == 200)
                #expect(server.stats.connectionsOpened <= UpstreamClient.Configuration().maxConnectionsPerHost)
            }
        }
    }

    @Test func droppingAnUnreadResponseDoesNotDisturbOthers() async throws {
        try await TestHTTPServer.with(Self.echo) { server in
            try await withClient { client in
                _ = try await client.execute(UpstreamRequest(method: "POST", url: server.url("/a"), body: ByteBuffer(string: "a")))
                let response = try await client.execute(
                    UpstreamRequest(method: "POST", url: server.url("/b"), body: ByteBuffer(string: "b"))
                )
                #expect(String(buffer: try await response.collectBody(upTo: 10)) == "b")
            }
        }
    }
}

/// Reads until a complete SSE event ("...\n\n") arrived.
private func readEvent(_ iterator: inout UpstreamBody.AsyncIterator) async throws -> String {
    var text = ""
    while !text.hasSuffix("\n\n") {
        guard let chunk = try await iterator.next() else { break }
        text += String(buffer: chunk)
    }
    return text
}
