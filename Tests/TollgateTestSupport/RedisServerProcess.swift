import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A real `redis-server` for tests, on a free loopback port and a unix socket, with no
/// persistence. Tests stop, pause (SIGSTOP), resume and restart it to exercise failures.
///
/// Needs `redis-server` on the PATH (or in `REDIS_SERVER`); without it ``start()`` throws an
/// error that says so. Always ``stop()`` it (``withServer(_:)`` does).
public final class RedisServerProcess: Sendable {
    public let port: Int
    /// Directory for the socket and the server's log; removed by ``stop()``.
    public let directory: String
    public var unixSocketPath: String { self.directory + "/redis.sock" }
    public var url: String { "redis://127.0.0.1:\(self.port)" }
    public var unixURL: String { "unix://\(self.unixSocketPath)" }

    private let executable: String
    /// The server's pid while it has not been reaped.
    private let pid = Mutex<pid_t?>(nil)

    private init(executable: String, port: Int, directory: String) {
        self.executable = executable
        self.port = port
        self.directory = directory
    }

    deinit {
        // A test that failed before stop(): do not leave the server running.
        self.pid.withLock { pid in
            if let running = pid {
                kill(running, SIGKILL)
                var status: Int32 = 0
                _ = waitpid(running, &status, 0)
                pid = nil
            }
        }
    }

    /// Starts a server on a free port and waits until it answers PING.
    public static func start() async throws -> RedisServerProcess {
        let executable = try Self.findExecutable()
        var lastError: (any Error)?
        for _ in 0..<5 {
            let directory = NSTemporaryDirectory() + "tollgate-redis-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let server = RedisServerProcess(executable: executable, port: try Self.freePort(), directory: directory)
            do {
                try await server.launch()
                return server
            } catch {
                // Most likely another process took the port in the meantime.
                lastError = error
                await server.stop()
            }
        }
        throw lastError!
    }

    /// Runs `body` with a fresh server and stops the server afterwards, even on error.
    public static func withServer<T>(_ body: (RedisServerProcess) async throws -> T) async throws -> T {
        let server = try await Self.start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    // MARK: Control

    /// SIGTERM (after SIGCONT, in case it is paused); waits for it to exit, SIGKILL after 10 s.
    public func stop() async {
        await self.terminate()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// Stops the server and starts a new one on the same port (empty: no persistence).
    public func restart() async throws {
        await self.terminate()
        try await self.launch()
    }

    /// SIGSTOP: the server keeps its connections open but answers nothing.
    public func pause() {
        self.signal(SIGSTOP)
    }

    /// SIGCONT after ``pause()``.
    public func resume() {
        self.signal(SIGCONT)
    }

    /// Stops the server but keeps its port and directory, for a later ``restart()``.
    public func terminate() async {
        guard let pid = self.pid.withLock({ $0 }) else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        for attempt in 0... {
            if !self.isRunning { break }
            if attempt == 1000 { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// False once the server exited (and was reaped).
    public var isRunning: Bool {
        self.pid.withLock { pid in
            guard let running = pid else { return false }
            var status: Int32 = 0
            let reaped = waitpid(running, &status, WNOHANG)
            if reaped == running || (reaped == -1 && errno == ECHILD) {
                pid = nil
                return false
            }
            return true
        }
    }

    private func signal(_ signal: Int32) {
        self.pid.withLock { pid in
            if let running = pid { kill(running, signal) }
        }
    }

    // MARK: Starting

    private func launch() async throws {
        let logPath = self.directory + "/redis.log"
        let arguments = [
            self.executable,
            "--port", "\(self.port)", "--bind", "127.0.0.1",
            "--unixsocket", self.unixSocketPath, "--unixsocketperm", "700",
            "--save", "", "--appendonly", "no", "--dir", self.directory,
            "--daemonize", "no", "--loglevel", "warning",
        ]
        let spawned = try Self.spawn(self.executable, arguments: arguments, output: logPath)
        self.pid.withLock { $0 = spawned }
        for _ in 0..<500 {
            // Another test's server may hold the port (it was free when picked): a PING there
            // answers too. Only ours creates this directory's socket, after binding the port.
            if Self.ping(port: self.port), FileManager.default.fileExists(atPath: self.unixSocketPath), self.isRunning { return }
            guard self.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        await self.terminate()
        throw RedisServerProcessError.didNotStart(port: self.port, log: output)
    }

    /// posix_spawn with an empty signal mask. Foundation's `Process` passes on the mask of
    /// the thread that launches it, and the concurrency pool's threads block most signals,
    /// so a server started from a test would ignore SIGTERM.
    private static func spawn(_ executable: String, arguments: [String], output: String) throws -> pid_t {
        #if canImport(Darwin)
        var attributes: posix_spawnattr_t? = nil
        var actions: posix_spawn_file_actions_t? = nil
        #else
        var attributes = posix_spawnattr_t()
        var actions = posix_spawn_file_actions_t()
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, &argv, environ)
        guard result == 0 else {
            throw RedisServerProcessError.spawnFailed(executable: executable, code: result)
        }
        return pid
    }

    private static func findExecutable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["REDIS_SERVER"], FileManager.default.isExecutableFile(atPath: explicit) {
            return explicit
        }
        let path = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in path + ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/opt/homebrew/bin"] {
            let candidate = directory + "/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw RedisServerProcessError.notInstalled
    }

    /// A port nothing listens on right now (the kernel's pick for an ephemeral bind).
    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, streamSocketType, 0)
        guard descriptor >= 0 else { throw RedisServerProcessError.noFreePort }
        defer { close(descriptor) }
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw RedisServerProcessError.noFreePort }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    /// One blocking PING over a fresh connection, with 200 ms socket timeouts.
    static func ping(port: Int) -> Bool {
        let descriptor = socket(AF_INET, streamSocketType, 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = Self.loopback(port: UInt16(port))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { return false }
        let command = Array("PING\r\n".utf8)
        guard send(descriptor, command, command.count, noSignalFlag) == command.count else { return false }
        var reply = [UInt8](repeating: 0, count: 16)
        let count = recv(descriptor, &reply, reply.count, 0)
        return count >= 5 && reply.starts(with: Array("+PONG".utf8))
    }
}

#if canImport(Darwin)
private let streamSocketType = SOCK_STREAM
private let noSignalFlag: Int32 = 0
#else
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
private let noSignalFlag = Int32(MSG_NOSIGNAL)
#endif

public enum RedisServerProcessError: Error, CustomStringConvertible {
    case notInstalled
    case noFreePort
    case spawnFailed(executable: String, code: Int32)
    case didNotStart(port: Int, log: String)

    public var description: String {
        switch self {
        case .notInstalled:
            "redis-server was not found on the PATH (nor in $REDIS_SERVER): the Redis tests need a real server. "
                + "Install it (Debian: apt-get install redis-server; .ci/run does)."
        case .noFreePort:
            "could not find a free loopback port for redis-server"
        case .spawnFailed(let executable, let code):
            "could not start \(executable) (posix_spawn: \(code))"
        case .didNotStart(let port, let log):
            "redis-server did not answer PING on port \(port) within 10 s. Its log:\n\(log)"
        }
    }
}
