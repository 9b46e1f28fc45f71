import Logging
import Testing
import TollgateRedis
import TollgateTestSupport

/// Server failures: stopped, restarted, paused (SIGSTOP). No timings are asserted, only
/// outcomes; waits for recovery poll with a generous bound.
@Suite("Redis client under server failures")
struct RedisFailureTests {
    @Test func serverStoppedMeansCallsFailFastWithUnavailable() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                try await redis.ping()
                await server.terminate()
                var unexpected: [RedisError] = []
                let refused = await eventually {
                    switch await outcome({ try await redis.send(["PING"]) }) {
                    case .failure(.unavailable): return true
                    case .failure(.connectionLost): return false  // sent just before the loss was seen
                    case .failure(let error): unexpected.append(error); return false
                    case .success: return false
                    }
                }
                #expect(refused)
                #expect(unexpected.isEmpty)
                #expect(!redis.isConnected)
            }
        }
    }

    @Test func clientReconnectsAfterRestartAndLogsLossAndRecoveryOnce() async throws {
        let logs = CapturedLogs()
        try await RedisServerProcess.withServer { server in
            try await withClient(server, logger: logs.logger) { redis throws in
                #expect(try await redis.send(["SET", "before", "restart"]) == .status("OK"))
                await server.terminate()
                #expect(await eventually { !redis.isConnected })
                // Several failed reconnect attempts while the server is down.
                try await Task.sleep(for: .milliseconds(300))
                try await server.restart()
                let recovered = await eventually {
                    (try? await redis.send(["PING"])) == .status("PONG")
                }
                #expect(recovered)
                #expect(redis.isConnected)
                // A new, empty server.
                #expect(try await redis.send(["GET", "before"]) == .null)
            }
        }
        #expect(logs.count(.warning, containing: "lost") == 1)
        #expect(logs.count(.info, containing: "re-established") == 1)
    }

    @Test func pausedServerMakesCallsTimeOutThenRecovers() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server, commandTimeout: .milliseconds(300)) { redis throws in
                // Connected first (on a loaded machine a call may miss even 300 ms).
                #expect(await eventually { (try? await redis.send(["PING"])) == .status("PONG") })
                server.pause()
                // Sent on a connection that stays open but answers nothing.
                #expect(await outcome { try await redis.send(["PING"]) }.failure == .timeout)
                // Later calls fail too (timeout, or unavailable while reconnecting).
                for _ in 0..<3 {
                    let error = await outcome { try await redis.send(["PING"]) }.failure
                    #expect(error == .timeout || error == .unavailable)
                }
                server.resume()
                #expect(await eventually { (try? await redis.send(["PING"])) == .status("PONG") })
            }
        }
    }

    @Test func cancelledCallerIsResumedAndLaterRepliesStayInOrder() async throws {
        try await RedisServerProcess.withServer { server in
            // Not a test of timeouts: a loaded machine once took over 10 s to answer after the resume.
            try await withClient(server, commandTimeout: .seconds(120)) { redis throws in
                #expect(try await redis.send(["SET", "k", "before"]) == .status("OK"))
                server.pause()
                let sentBefore = redis.callsSent
                let waiting = Task { await outcome { try await redis.send(["INCR", "n"]) } }
                // Cancelled only once the INCR is on its way (a call cancelled before it left is never sent).
                #expect(await eventually(within: .seconds(60)) { redis.callsSent > sentBefore }, "the INCR was never sent")
                waiting.cancel()
                #expect(await waiting.value.failure == .cancelled)
                server.resume()
                // The INCR still ran; its reply was discarded and the next reply is GET's own.
                #expect(try await redis.send(["GET", "k"]) == "before")
                #expect(try await redis.send(["GET", "n"]) == "1")
            }
        }
    }

    @Test func callFromCancelledTaskFailsWithoutBeingSent() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                let cancelled = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    return await outcome { try await redis.send(["INCR", "never"]) }
                }
                #expect(await cancelled.value.failure == .cancelled)
                #expect(try await redis.send(["GET", "never"]) == .null)
            }
        }
    }

    @Test func shutdownFailsPendingCalls() async throws {
        try await RedisServerProcess.withServer { server in
            let configuration = RedisClient.Configuration(url: try RedisURL(server.url), commandTimeout: .seconds(60))
            let redis = RedisClient(configuration: configuration, logger: quietLogger)
            let running = Task { try await redis.run() }
            try await redis.ping()
            server.pause()
            let pending = Task { await outcome { try await redis.send(["PING"]) } }
            try await Task.sleep(for: .milliseconds(100))
            redis.shutdown()
            #expect(await pending.value.failure == .shutdown)
            try await running.value
            #expect(await outcome { try await redis.send(["PING"]) }.failure == .shutdown)
            server.resume()
        }
    }

    @Test func noServerMeansUnavailable() async throws {
        // Take a free port from a server, then stop it: nothing listens there any more.
        let server = try await RedisServerProcess.start()
        await server.stop()
        try await withClient(server) { redis throws in
            #expect(await outcome { try await redis.send(["PING"]) }.failure == .unavailable)
            #expect(!redis.isConnected)
        }
    }

    @Test func callsMadeBeforeRunWaitForTheFirstConnect() async throws {
        try await RedisServerProcess.withServer { server in
            // The task that calls run() may start late on a busy pool: a call made before it
            // waits for the first connect, then has the whole command timeout for its reply.
            let timeout = Duration.seconds(3)
            let redis = RedisClient(configuration: .init(url: try RedisURL(server.url), commandTimeout: timeout), logger: quietLogger)
            let made = ContinuousClock.now
            let early = Task { await outcome { try await redis.send(["ECHO", "early"]) } }
            // Start the client only once the call's own timeout is over.
            try await Task.sleep(until: made + timeout + .milliseconds(500))
            let running = Task { try await redis.run() }
            #expect(try await early.value.get() == "early")
            redis.shutdown()
            try await running.value
        }
    }
}
