import Testing
import TollgateRedis
import TollgateTestSupport

@Suite("Redis commands against a real redis-server")
struct RedisCommandTests {
    @Test func setGetIncrRoundTrips() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                #expect(try await redis.send(["SET", "greeting", "hello"]) == .status("OK"))
                #expect(try await redis.send(["GET", "greeting"]) == "hello")
                #expect(try await redis.send(["GET", "missing"]) == .null)
                #expect(try await redis.send(["INCR", "counter"]) == 1)
                #expect(try await redis.send(["INCRBY", "counter", "41"]) == 42)
                #expect(try await redis.send(["MGET", "greeting", "missing", "counter"]) == ["hello", .null, "42"])
                #expect(try await redis.send(["DEL", "greeting", "counter"]) == 2)
                try await redis.ping()
                #expect(redis.isConnected)
            }
        }
    }

    @Test func binaryArgumentsAndValues() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                let value: [UInt8] = [0, 1, 0xff, 13, 10, 0]
                #expect(try await redis.send(bytes: [Array("SET".utf8), [0xfe, 0], value]) == .status("OK"))
                #expect(try await redis.send(bytes: [Array("GET".utf8), [0xfe, 0]]) == .string(value))
                #expect(try await redis.send(["SET", "empty", ""]) == .status("OK"))
                #expect(try await redis.send(["GET", "empty"]) == .string([]))
                let unicode = "tollgate \u{1F6A7} ü"
                #expect(try await redis.send(["ECHO", unicode]).stringValue == unicode)
            }
        }
    }

    @Test func unixSocketAndDatabaseSelection() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server, url: server.unixURL + "?db=2") { redis throws in
                #expect(try await redis.send(["SET", "where", "db2"]) == .status("OK"))
            }
            try await withClient(server) { redis throws in
                #expect(try await redis.send(["GET", "where"]) == .null)
            }
            try await withClient(server, url: server.url + "/2") { redis throws in
                #expect(try await redis.send(["GET", "where"]) == "db2")
            }
        }
    }

    @Test func passwordAuthentication() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                #expect(try await redis.send(["CONFIG", "SET", "requirepass", "s3cret/pass"]) == .status("OK"))
            }
            try await withClient(server, url: "redis://:s3cret%2Fpass@127.0.0.1:\(server.port)") { redis throws in
                #expect(try await redis.send(["PING"]) == .status("PONG"))
            }
            try await withClient(server, url: "redis://default:wrong@127.0.0.1:\(server.port)") { redis throws in
                // The handshake fails, so the client never connects.
                #expect(await outcome { try await redis.send(["PING"]) }.failure == .unavailable)
                #expect(!redis.isConnected)
            }
        }
    }

    @Test(arguments: [1, 2])
    func thousandConcurrentSendsGetTheirOwnReplies(connections: Int) async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server, connections: connections) { redis throws in
                let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                    for task in 0..<1000 {
                        group.addTask {
                            let echoed = try await redis.send(["ECHO", "value-\(task)"])
                            let counted = try await redis.send(["INCR", "calls"])
                            return echoed == .string(Array("value-\(task)".utf8)) && counted.integerValue != nil ? 0 : 1
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(mismatches == 0)
                #expect(try await redis.send(["GET", "calls"]) == "1000")
            }
        }
    }

    @Test func pipelineReturnsOneReplyPerCommandWithErrorsInPlace() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                let replies = try await redis.pipeline([
                    ["SET", "p", "1"],
                    ["INCR", "p"],
                    ["LPUSH", "p", "x"],
                    ["GET", "p"],
                ])
                #expect(replies.count == 4)
                #expect(replies[0] == .status("OK"))
                #expect(replies[1] == 2)
                #expect(replies[2].errorMessage?.hasPrefix("WRONGTYPE") == true)
                #expect(replies[3] == "2")
                #expect(try await redis.pipeline([]) == [])
            }
        }
    }

    @Test func errorRepliesAreThrownAndTheConnectionStaysUsable() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                _ = try await redis.send(["SET", "text", "abc"])
                let notANumber = await outcome { try await redis.send(["INCR", "text"]) }
                #expect(notANumber.failure == .reply("ERR value is not an integer or out of range"))
                let unknown = await outcome { try await redis.send(["NOSUCHCOMMAND", "x"]) }
                guard case .reply(let message) = unknown.failure else {
                    Issue.record("expected an error reply, got \(unknown)")
                    return
                }
                #expect(message.hasPrefix("ERR unknown command"))
                #expect(await outcome { try await redis.send([]) }.failure == .invalidCommand("no arguments"))
                #expect(try await redis.send(["GET", "text"]) == "abc")
            }
        }
    }
}
