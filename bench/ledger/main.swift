// ledger-bench: what the ledger writer sustains, and what `record` costs its caller.
//   swift build -c release --product ledger-bench && .build/release/ledger-bench [ROWS]
// 1. writer throughput: ROWS rows queued before the writer starts, timed until the last one
//    is committed (shipped schema and indexes, default batches of 1000; also 100 and 5000).
// 1b. the same into PostgreSQL (a local server; LEDGER_BENCH_POSTGRES_URL, an empty database),
//    connecting and creating the schema included.
// 2. record (async) and tryRecord (sync) cost: the writer running and a producer recording bursts of 100 rows every 10 ms
//    (10 000 rows/s, a busy gateway), so the queue stays short; the bursts are timed with the
//    thread's CPU clock (immune to the other processes on the machine) and the wall clock.
import Foundation
import ServiceLifecycle
import TollgateCore
#if canImport(Glibc)
import Glibc
#endif

let rows = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 200_000

func entry(_ index: Int) -> LedgerEntry {
    LedgerEntry(
        timeMs: 1_760_000_000_000 + Int64(index), requestID: "req_\(index)", keyID: "key_\(index % 50)",
        team: "team-\(index % 7)", user: "user-\(index % 500)", route: "default", requestedModel: "auto",
        servedModel: "gpt-5-mini", provider: "openai", inputTokens: 800, cachedInputTokens: 128, outputTokens: 200,
        costNanodollars: 612_000, httpStatus: 200, stream: index % 2 == 0, latencyMs: 900, upstreamLatencyMs: 880,
        timeToFirstTokenMs: 300
    )
}

let benchDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-bench-\(UUID().uuidString)")

func temporaryPath() -> String {
    benchDirectory.appendingPathComponent("\(UUID().uuidString).sqlite").path
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func threadCPUNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

let entries = (0..<rows).map(entry)
let clock = ContinuousClock()

print("load average at start: \(loadAverage())")

// MARK: 1. writer throughput

for batchSize in [1_000, 100, 5_000] {
    let database = try LedgerDatabase(path: temporaryPath())
    let writer = LedgerWriter(database: database, configuration: .init(queueCapacity: rows, batchSize: batchSize))
    for entry in entries where !writer.tryRecord(entry) { fatalError("the queue holds every row") }
    let start = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await writer.run() }
        while writer.rowsWritten < rows { try await Task.sleep(for: .milliseconds(1)) }
        group.cancelAll()
    }
    let elapsed = seconds(clock.now - start)
    print(String(
        format: "writer, batches of %5d: %7.0f rows/s (%d rows in %.2f s, %d transactions)",
        batchSize, Double(try database.count()) / elapsed, rows, elapsed, writer.batchesWritten
    ))
}

// MARK: 1b. the same into PostgreSQL, when LEDGER_BENCH_POSTGRES_URL names an empty database

if let url = ProcessInfo.processInfo.environment["LEDGER_BENCH_POSTGRES_URL"] {
    let postgres = try PostgresLedger(url: try PostgresURL(url), spillPath: temporaryPath())
    let writer = LedgerWriter(postgres: postgres, configuration: .init(queueCapacity: rows, batchSize: 1_000))
    for entry in entries where !writer.tryRecord(entry) { fatalError("the queue holds every row") }
    let start = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await postgres.run() }
        group.addTask { try await writer.run() }
        while writer.rowsWritten < rows { try await Task.sleep(for: .milliseconds(1)) }
        group.cancelAll()
    }
    let elapsed = seconds(clock.now - start)
    print(String(
        format: "PostgreSQL writer, batches of 1000: %7.0f rows/s (%d rows in %.2f s, %d transactions, %d spilled)",
        Double(rows) / elapsed, rows, elapsed, writer.batchesWritten, writer.rowsSpilled
    ))
}

// MARK: 2. record cost with the writer running

for method in ["record", "tryRecord"] {
    let database = try LedgerDatabase(path: temporaryPath())
    let writer = LedgerWriter(database: database)
    let bursts = min(rows / 100, 500)
    var cpu: UInt64 = 0
    var wall: Duration = .zero
    var worstBurst: Duration = .zero
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await writer.run() }
        for burst in 0..<bursts {
            let slice = entries[(burst * 100)..<(burst * 100 + 100)]
            let cpuStart = threadCPUNanos()
            let wallStart = clock.now
            if method == "record" {
                for entry in slice { await writer.record(entry) }
            } else {
                for entry in slice where !writer.tryRecord(entry) { fatalError("queue full at 10k rows/s") }
            }
            let took = clock.now - wallStart
            cpu += threadCPUNanos() - cpuStart
            wall += took
            worstBurst = max(worstBurst, took)
            try await Task.sleep(for: .milliseconds(10))
        }
        while writer.rowsWritten < bursts * 100 { try await Task.sleep(for: .milliseconds(1)) }
        group.cancelAll()
    }
    let calls = Double(bursts * 100)
    print(String(
        format: "%@, writer running, 10k rows/s: %.0f ns/call CPU, %.0f ns/call wall (worst burst of 100: %.0f µs); %d transactions for %d rows",
        method, Double(cpu) / calls, seconds(wall) / calls * 1e9, seconds(worstBurst) * 1e6, writer.batchesWritten, bursts * 100
    ))
}

print("load average at end: \(loadAverage())")
try? FileManager.default.removeItem(at: benchDirectory)
