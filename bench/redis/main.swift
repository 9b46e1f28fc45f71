// redis-bench: round trips per second through RedisClient, release build.
//   bench/redis/run.sh            (starts a throwaway redis-server, runs this, stops it)
//   .build/release/redis-bench redis://127.0.0.1:6379 [seconds per case]
// Prints calls/s for one sender awaiting each reply in turn, and for 32 concurrent senders
// over one connection (pipelined by the connection thread), with PING and with an EVALSHA
// check-and-reserve script like the rate limiter's.
import Logging
import TollgateRedis

let arguments = CommandLine.arguments.dropFirst()
let url = try RedisURL(arguments.first ?? "redis://127.0.0.1:6379")
let seconds = arguments.dropFirst().first.flatMap(Double.init) ?? 3

let reserve = RedisScript("""
    local used = redis.call('INCRBY', KEYS[1], ARGV[1])
    if used > tonumber(ARGV[2]) then
      redis.call('DECRBY', KEYS[1], ARGV[1])
      return 0
    end
    redis.call('EXPIRE', KEYS[1], 60)
    return 1
    """)

/// Calls `call` from `senders` concurrent tasks for about `seconds`; returns calls per second.
func measure(senders: Int, _ call: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    let end = start + .milliseconds(Int(seconds * 1000))
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for sender in 0..<senders {
            group.addTask {
                var calls = 0
                while clock.now < end {
                    for _ in 0..<32 {
                        try await call(sender)
                        calls += 1
                    }
                }
                return calls
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = clock.now - start
    let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(total) / elapsedSeconds
}

func format(_ rate: Double) -> String {
    String(Int(rate.rounded()))
}

func oneDecimal(_ value: Double) -> String {
    String((value * 10).rounded() / 10)
}

var logger = Logger(label: "redis-bench")
logger.logLevel = .warning
for connections in [1, 2] {
    let client = RedisClient(configuration: .init(url: url, connections: connections), logger: logger)
    let runner = Task { try await client.run() }
    try await client.ping()
    _ = try await client.evaluate(reserve, keys: ["bench:warmup"], arguments: ["1", "1000000000"])

    let pingSequential = try await measure(senders: 1) { _ in _ = try await client.send(["PING"]) }
    let pingConcurrent = try await measure(senders: 32) { _ in _ = try await client.send(["PING"]) }
    let evalSequential = try await measure(senders: 1) { sender in
        _ = try await client.evaluate(reserve, keys: ["bench:\(sender % 8)"], arguments: ["1", "1000000000"])
    }
    let evalConcurrent = try await measure(senders: 32) { sender in
        _ = try await client.evaluate(reserve, keys: ["bench:\(sender % 8)"], arguments: ["1", "1000000000"])
    }
    print("connections=\(connections)")
    print("  PING     sequential \(format(pingSequential))/s   32 senders \(format(pingConcurrent))/s   ratio \(oneDecimal(pingConcurrent / pingSequential))")
    print("  EVALSHA  sequential \(format(evalSequential))/s   32 senders \(format(evalConcurrent))/s   ratio \(oneDecimal(evalConcurrent / evalSequential))")
    client.shutdown()
    try await runner.value
}
