// ledger-crash-writer DB_PATH: records ledger entries in a loop until it is killed, for the
// crash test (LedgerCrashTests). After each `record` returns it writes "INDEX NANOS" to
// stdout, NANOS being CLOCK_MONOTONIC, the clock the test reads when it sends SIGKILL.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TollgateCore

func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// write(2) per line: nothing buffered in the process for SIGKILL to lose.
func emit(_ line: String) {
    var line = line
    line.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { exit(3) }
            offset += written
        }
    }
}

guard CommandLine.arguments.count == 2 else {
    emit("usage: ledger-crash-writer DB_PATH\n")
    exit(2)
}

let database = try LedgerDatabase(path: CommandLine.arguments[1])
let writer = LedgerWriter(database: database, configuration: .init(flushInterval: .milliseconds(50)))

await withTaskGroup(of: Void.self) { group in
    group.addTask { try? await writer.run() }
    emit("ready\n")
    var index = 0
    while true {
        // A few rows per millisecond (a busy gateway), well within what even a debug build
        // writes, so each flush interval holds a batch of many rows and the queue stays short.
        for _ in 0..<4 {
            await writer.record(LedgerEntry(
                timeMs: 1_700_000_000_000 + Int64(index), requestID: "crash-\(index)", keyID: "key_crash",
                requestedModel: "gpt-4o-mini", servedModel: "gpt-4o-mini", provider: "openai",
                inputTokens: index % 1000, outputTokens: 7, costNanodollars: 1_500, httpStatus: 200, latencyMs: 12
            ))
            emit("\(index) \(monotonicNanos())\n")
            index += 1
        }
        try? await Task.sleep(for: .milliseconds(1))
    }
}
