import Foundation
import Testing
import TollgateCore
import TollgateTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Hardening (issue 15, items 1 and 7): idle, half-sent and keep-alive sockets are closed after
/// the idle timeout, connections beyond the bound are closed as soon as they are accepted, and
/// a connection that cannot carry another request is closed after its answer.
@Suite struct ConnectionHardeningTests {
    /// A loopback TCP client for sending raw bytes. Its reads block, so they run on a thread of
    /// their own: blocking the cooperative pool would also stall the gateway under test.
    final class RawSocket: @unchecked Sendable {
        private(set) var fd: Int32

        init(port: Int) throws {
            self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        }

        deinit { self.close() }

        func close() {
            if self.fd >= 0 { Glibc.close(self.fd) }
            self.fd = -1
        }

        func send(_ text: String) {
            _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(self.fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        }

        /// Runs `body` on a new thread and waits for it without holding a cooperative thread.
        private func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
            await withCheckedContinuation { continuation in
                Thread { continuation.resume(returning: body()) }.start()
            }
        }

        /// Waits until data arrives or `end` passes.
        private func readable(before end: ContinuousClock.Instant) -> Bool {
            while ContinuousClock.now < end {
                var descriptor = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                if poll(&descriptor, 1, 100) > 0 { return true }
            }
            return false
        }

        /// Reads until the server closes the connection or `deadline` passes; returns whether it
        /// closed, and what it sent.
        func readUntilClosed(deadline: Duration) async -> (closed: Bool, text: String) {
            await self.offPool { self.blockingReadUntilClosed(deadline: deadline) }
        }

        private func blockingReadUntilClosed(deadline: Duration) -> (closed: Bool, text: String) {
            var received: [UInt8] = []
            let end = ContinuousClock.now + deadline
            var buffer = [UInt8](repeating: 0, count: 4096)
            while self.readable(before: end) {
                let count = recv(self.fd, &buffer, buffer.count, 0)
                if count <= 0 { return (true, String(decoding: received, as: UTF8.self)) }
                received += buffer[0..<count]
            }
            return (false, String(decoding: received, as: UTF8.self))
        }

        /// Reads until `text` arrived (true), or the connection closed or a minute passed.
        func readUntil(_ text: String) async -> Bool {
            await self.offPool {
                let end = ContinuousClock.now + .seconds(60)
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while self.readable(before: end) {
                    let count = recv(self.fd, &buffer, buffer.count, 0)
                    if count <= 0 { return false }
                    received += buffer[0..<count]
                    if String(decoding: received, as: UTF8.self).contains(text) { return true }
                }
                return false
            }
        }

        /// Reads one response head and body of `Content-Length` bytes (a keep-alive answer), or
        /// what arrived before a close or a minute passed.
        func readResponse() async -> String {
            await self.offPool { self.blockingReadResponse(deadline: .seconds(60)) }
        }

        private func blockingReadResponse(deadline: Duration) -> String {
            let end = ContinuousClock.now + deadline
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let text = String(decoding: received, as: UTF8.self)
                if let split = text.range(of: "\r\n\r\n") {
                    let length = text[..<split.lowerBound].split(separator: "\r\n")
                        .first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    if text.utf8.count - text.utf8.distance(from: text.startIndex, to: split.upperBound) >= length { return text }
                }
                guard self.readable(before: end) else { return text }
                let count = recv(self.fd, &buffer, buffer.count, 0)
                if count <= 0 { return text }
                received += buffer[0..<count]
            }
        }
    }

    static let liveRequest = "GET /health/live HTTP/1.1\r\nHost: tollgate\r\n\r\n"

    @Test func silentHalfSentAndIdleConnectionsAreClosed() async throws {
        try await GatewayHarness.run(configure: { $0.server.idleTimeout = .milliseconds(200) }) { gateway in
            let port = gateway.http.port
            let silent = try RawSocket(port: port)
            let halfHeader = try RawSocket(port: port)
            halfHeader.send("POST /v1/chat/completions HTTP/1.1\r\nHost: tollgate\r\nContent-Type: app")
            let hugeBody = try RawSocket(port: port)
            hugeBody.send("POST /v1/chat/completions HTTP/1.1\r\nHost: tollgate\r\nContent-Length: 1000000000000\r\n\r\n{\"model\"")
            // A connection that was answered and then left idle.
            let keepAlive = try #require(try await Self.answeredConnection(port: port))
            // The timeout is 200 ms; the deadline is far from it, so a loaded machine passes too.
            for (name, socket) in [("silent", silent), ("half-sent header", halfHeader), ("stalled body", hugeBody), ("keep-alive", keepAlive)] {
                #expect(await socket.readUntilClosed(deadline: .seconds(60)).closed, "\(name) connection left open")
            }
            // Still serving. (On a new connection: the test client's pooled ones were idle too.)
            #expect(try await Self.answeredConnection(port: port) != nil)
        }
    }

    /// A new connection that got a 200 for `liveRequest`. With a short idle timeout on a loaded
    /// machine, the timeout may pass between connecting and the request being read, which
    /// closes the connection unanswered (rightly): then it tries again on another one.
    static func answeredConnection(port: Int) async throws -> RawSocket? {
        for _ in 0..<50 {
            let socket = try RawSocket(port: port)
            socket.send(Self.liveRequest)
            if await socket.readResponse().hasPrefix("HTTP/1.1 200") { return socket }
        }
        return nil
    }

    @Test func connectionsBeyondTheBoundAreClosedAtOnce() async throws {
        try await GatewayHarness.run(configure: { $0.server.maxConnections = 3; $0.server.idleTimeout = .seconds(3600) }) { gateway in
            let port = gateway.http.port
            // The test's HTTP client may hold pooled connections of its own: none is open yet.
            let held = try (0..<3).map { _ in try RawSocket(port: port) }
            for socket in held {
                socket.send(Self.liveRequest)
                #expect(await socket.readResponse().hasPrefix("HTTP/1.1 200"))
            }
            let extra = try RawSocket(port: port)
            extra.send(Self.liveRequest)
            let refused = await extra.readUntilClosed(deadline: .seconds(60))
            #expect(refused.closed && refused.text.isEmpty, "closed without an answer")

            // Once one lets go, a new connection is served (its slot frees when the server has
            // seen the close: retried until then).
            held[0].close()
            var served = false
            for _ in 0..<600 where !served {
                let next = try RawSocket(port: port)
                next.send(Self.liveRequest)
                served = await next.readResponse().hasPrefix("HTTP/1.1 200")
                if !served { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(served)
        }
    }

    @Test func connectionsThatCannotCarryAnotherRequestAreClosedAfterTheAnswer() async throws {
        try await GatewayHarness.run(configure: { $0.server.idleTimeout = .seconds(3600); $0.server.maxBodyBytes = 1 << 20 }) { gateway in
            let port = gateway.http.port
            let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: tollgate\r\nAuthorization: Bearer \(gateway.secret)\r\nContent-Type: application/json\r\n"

            // Malformed chunked framing: a 400 in the ingress format, not a 500, then closed.
            let badChunk = try RawSocket(port: port)
            badChunk.send(head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n")
            let framing = await badChunk.readUntilClosed(deadline: .seconds(60))
            #expect(framing.closed && framing.text.hasPrefix("HTTP/1.1 400"), "\(framing.text)")
            #expect(framing.text.contains(#""code":"malformed_http""#))

            // A declared length over the limit: 413 at once (no waiting for 10^12 bytes), closed.
            let huge = try RawSocket(port: port)
            huge.send(head + "Content-Length: 1000000000000\r\n\r\n{\"model\"")
            let tooLarge = await huge.readUntilClosed(deadline: .seconds(60))
            #expect(tooLarge.closed && tooLarge.text.hasPrefix("HTTP/1.1 413"), "\(tooLarge.text)")

            // HTTP/1.0 closes unless the client asks to keep the connection.
            let oneZero = try RawSocket(port: port)
            oneZero.send("GET /health/live HTTP/1.0\r\n\r\n")
            let closedAfter = await oneZero.readUntilClosed(deadline: .seconds(60))
            #expect(closedAfter.closed && closedAfter.text.hasPrefix("HTTP/1.1 200") && closedAfter.text.lowercased().contains("connection: close"))
            let keptAlive = try RawSocket(port: port)
            keptAlive.send("GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(await keptAlive.readResponse().lowercased().contains("connection: keep-alive"))
            keptAlive.send("GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(await keptAlive.readResponse().hasPrefix("HTTP/1.1 200"), "a second request on the kept connection")

            #expect(try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"still serving"}]}"#).status == 200)
        }
    }
}
