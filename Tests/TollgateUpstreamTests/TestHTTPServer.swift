import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the test server received it.
struct ReceivedRequest: Sendable {
    let method: String
    let uri: String
    let headers: HTTPHeaders
    let body: ByteBuffer
    let connection: Int

    var path: Substring { self.uri.split(separator: "?", maxSplits: 1).first ?? "" }
}

/// Thrown by a handler to drop the connection without finishing the response.
struct CloseConnection: Error {}

/// Writes one HTTP/1.1 response.
struct ResponseWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    func head(_ status: HTTPResponseStatus = .ok, _ headers: [(String, String)] = []) async throws {
        try await self.outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers))))
    }

    func body(_ bytes: ByteBuffer) async throws {
        try await self.outbound.write(.body(.byteBuffer(bytes)))
    }

    func body(_ string: String) async throws {
        try await self.body(ByteBuffer(string: string))
    }

    func end() async throws {
        try await self.outbound.write(.end(nil))
    }

    /// A complete response with Content-Length.
    func respond(_ status: HTTPResponseStatus = .ok, _ headers: [(String, String)] = [], body: ByteBuffer) async throws {
        try await self.head(status, headers + [("Content-Length", "\(body.readableBytes)")])
        if body.readableBytes > 0 { try await self.body(body) }
        try await self.end()
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 (NIOPosix + NIOHTTP1) that records what it sees.
final class TestHTTPServer: Sendable {
    typealias Handler = @Sendable (ReceivedRequest, ResponseWriter) async throws -> Void

    struct Stats: Sendable {
        var connectionsOpened = 0
        var connectionsClosed = 0
        var requests: [ReceivedRequest] = []
    }

    let port: Int
    private let handler: Handler
    private let state = NIOLockedValueBox(Stats())

    private init(port: Int, handler: @escaping Handler) {
        self.port = port
        self.handler = handler
    }

    var stats: Stats { self.state.withLockedValue { $0 } }

    func url(_ path: String) -> String { "http://127.0.0.1:\(self.port)\(path)" }

    /// Runs a server for the duration of `body`.
    static func with<T: Sendable>(
        _ handler: @escaping Handler,
        _ body: (TestHTTPServer) async throws -> T
    ) async throws -> T {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        let server = TestHTTPServer(port: channel.channel.localAddress!.port!, handler: handler)
        let acceptLoopEnded = Signal()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { acceptLoopEnded.fire() }
                try? await withThrowingDiscardingTaskGroup { handlers in
                    try await channel.executeThenClose { connections in
                        for try await connection in connections {
                            handlers.addTask { await server.serve(connection) }
                        }
                    }
                    // Before the group waits for the handlers, which end when cancelled.
                    acceptLoopEnded.fire()
                }
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(server))
            } catch {
                result = .failure(error)
            }
            // Stop accepting and let the accept loop hand every accepted connection to a
            // handler (a connection dropped unserved would trip NIOAsyncWriter's check),
            // then cancel the handlers, which close their connections.
            try? await channel.channel.close()
            try? await acceptLoopEnded.wait()
            group.cancelAll()
            return try result.get()
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let id = self.state.withLockedValue { stats -> Int in
            stats.connectionsOpened += 1
            return stats.connectionsOpened - 1
        }
        connection.channel.closeFuture.whenComplete { _ in
            self.state.withLockedValue { $0.connectionsClosed += 1 }
        }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(let bytes):
                    body.writeImmutableBuffer(bytes)
                case .end:
                    guard let head else { return }
                    let request = ReceivedRequest(
                        method: head.method.rawValue,
                        uri: head.uri,
                        headers: head.headers,
                        body: body,
                        connection: id
                    )
                    self.state.withLockedValue { $0.requests.append(request) }
                    try await self.handler(request, ResponseWriter(outbound: outbound))
                }
            }
        }
    }
}
