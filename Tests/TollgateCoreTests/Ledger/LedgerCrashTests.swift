import Foundation
import GRDB
import Synchronization
import Testing
@testable import TollgateCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The crash guarantee: after SIGKILL, only rows recorded in the last flush interval (50 ms)
/// may be missing. `ledger-crash-writer` records rows in a loop and prints each row's index
/// with the monotonic time `record` returned; this test kills it and checks that every row
/// recorded more than 500 ms before the kill is in the file. The margin is for scheduling
/// noise on a busy 2-core machine, not part of the guarantee.
@Suite struct LedgerCrashTests {
    static let margin: UInt64 = 500_000_000

    @Test func sigkillLosesOnlyTheLastFlushInterval() async throws {
        let binary = try #require(Self.crashWriterPath(), "build ledger-crash-writer first (swift build --build-tests)")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("ledger.sqlite")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [path]
        let stdout = Pipe()
        process.standardOutput = stdout
        let output = OutputCollector(stdout.fileHandleForReading)
        let exited = ExitWaiter(process)
        try process.run()
        output.start()

        #expect(await eventually { output.text.hasPrefix("ready\n") && output.lineCount > 100 }, "the writer did not start")
        try await Task.sleep(for: .milliseconds(1_500))
        let killedAt = Self.monotonicNanos()
        kill(process.processIdentifier, SIGKILL)
        await exited.wait()
        #expect(process.terminationReason == .uncaughtSignal)
        let text = await output.finish()

        let recorded: [(index: Int, nanos: UInt64)] = text.split(separator: "\n").dropFirst().compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let index = Int(parts[0]), let nanos = UInt64(parts[1]) else { return nil }
            return (index, nanos)
        }
        let mustBeStored = recorded.filter { $0.nanos + Self.margin < killedAt }.map(\.index)
        #expect(mustBeStored.count > 1_000, "too few rows recorded to judge: \(recorded.count)")

        // Opening the file runs SQLite's WAL recovery; the file must be whole.
        let database = try LedgerDatabase(path: path)
        let integrity = try await database.pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
        let stored = try await database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT request_id FROM ledger_entry ORDER BY id")
        }.map { Int($0.dropFirst("crash-".count)) ?? -1 }
        // Batches are written whole and in order: what is there is a prefix of what was recorded.
        #expect(stored == Array(0..<stored.count), "rows stored out of order or with gaps")
        let lastRequired = mustBeStored.last ?? -1
        #expect(stored.count > lastRequired, "row \(lastRequired) was recorded more than 500 ms before the kill but is missing (stored \(stored.count) of \(recorded.count))")
    }

    // MARK: - Helpers

    static func monotonicNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// `ledger-crash-writer` beside the test bundle (`.build/<config>/`), or `LEDGER_CRASH_WRITER`.
    static func crashWriterPath() -> String? {
        if let path = ProcessInfo.processInfo.environment["LEDGER_CRASH_WRITER"] { return path }
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        for directory in candidates {
            var url = directory
            for _ in 0..<4 {
                let candidate = url.appendingPathComponent("ledger-crash-writer").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                url = url.deletingLastPathComponent()
            }
        }
        return nil
    }
}

/// Reads a pipe on its own thread (the child must never block on a full pipe) until EOF.
private final class OutputCollector: Sendable {
    private struct State {
        var data: [UInt8] = []
        var lines = 0
        var done = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let handle: FileHandle
    private let state = Mutex(State())

    init(_ handle: FileHandle) { self.handle = handle }

    func start() {
        let thread = Thread { [self] in
            while true {
                let chunk = self.handle.availableData
                if chunk.isEmpty { break }
                self.state.withLock { state in
                    state.data.append(contentsOf: chunk)
                    state.lines += chunk.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
                }
            }
            self.state.withLock { state in
                state.done = true
                return state.waiter.take()
            }?.resume()
        }
        thread.start()
    }

    var text: String { self.state.withLock { String(decoding: $0.data, as: UTF8.self) } }
    var lineCount: Int { self.state.withLock { $0.lines } }

    /// Waits for EOF and returns everything read.
    func finish() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.state.withLock { state in
                if state.done { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
        return self.text
    }
}

/// The process's exit, awaited without blocking a thread.
private final class ExitWaiter: Sendable {
    private let state = Mutex<(exited: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    init(_ process: Process) {
        process.terminationHandler = { [self] _ in
            self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.exited = true
                defer { state.waiter = nil }
                return state.waiter
            }?.resume()
        }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = self.state.withLock { state -> Bool in
                if state.exited { return true }
                state.waiter = continuation
                return false
            }
            if exited { continuation.resume() }
        }
    }
}
