import Testing
import TollgateRedis
import TollgateTestSupport

@Suite("Lua scripts with EVALSHA")
struct RedisScriptTests {
    static let reserve = RedisScript("""
        local used = redis.call('INCRBY', KEYS[1], ARGV[1])
        if used > tonumber(ARGV[2]) then
          redis.call('DECRBY', KEYS[1], ARGV[1])
          return {0, used - ARGV[1]}
        end
        return {1, used}
        """)

    @Test func sha1IsComputedLocallyAsRedisNamesIt() {
        // The digest Redis's documentation gives for SCRIPT LOAD "return 1".
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }

    @Test func evaluateLoadsOnFirstUseAndAfterScriptFlush() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                let script = Self.reserve
                #expect(try await redis.send(["SCRIPT", "EXISTS", script.sha1]) == [0])
                #expect(try await redis.evaluate(script, keys: ["budget"], arguments: ["30", "100"]) == [1, 30])
                #expect(try await redis.send(["SCRIPT", "EXISTS", script.sha1]) == [1])
                #expect(try await redis.evaluate(script, keys: ["budget"], arguments: ["50", "100"]) == [1, 80])

                #expect(try await redis.send(["SCRIPT", "FLUSH"]) == .status("OK"))
                #expect(try await redis.evaluate(script, keys: ["budget"], arguments: ["50", "100"]) == [0, 80])
                #expect(try await redis.evaluate(script, keys: ["budget"], arguments: ["20", "100"]) == [1, 100])
            }
        }
    }

    @Test func concurrentFirstUsesAllSucceed() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server, connections: 2) { redis throws in
                let granted = try await withThrowingTaskGroup(of: Int64.self) { group in
                    for _ in 0..<200 {
                        group.addTask {
                            let reply = try await redis.evaluate(Self.reserve, keys: ["shared"], arguments: ["1", "150"])
                            return reply.arrayValue?.first?.integerValue ?? -1
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(granted == 150)
            }
        }
    }

    @Test func scriptErrorsAreThrown() async throws {
        try await RedisServerProcess.withServer { server in
            try await withClient(server) { redis throws in
                let refusal = RedisScript("return redis.error_reply('LIMIT exceeded')")
                #expect(await outcome { try await redis.evaluate(refusal) }.failure == .reply("LIMIT exceeded"))

                let broken = RedisScript("return {")
                guard case .reply(let message) = await outcome({ try await redis.evaluate(broken) }).failure else {
                    Issue.record("a script that does not compile must throw an error reply")
                    return
                }
                #expect(message.contains("compiling"))
                #expect(try await redis.evaluate(RedisScript("return ARGV[1]"), arguments: ["still fine"]) == "still fine")
            }
        }
    }
}
