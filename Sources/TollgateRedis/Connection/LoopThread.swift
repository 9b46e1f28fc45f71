import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a detached OS thread (not a Swift concurrency executor) for a connection loop.
/// The thread blocks SIGPIPE for itself (see `tg_redis_block_sigpipe`).
enum LoopThread {
    struct SpawnError: Error, CustomStringConvertible {
        let code: Int32
        var description: String { "could not start a Redis connection thread (pthread_create: \(self.code))" }
    }

    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(SpawnError) {
        let context = Unmanaged.passRetained(ThreadContext(name: name, body: body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let result = pthread_create(&thread, nil, redisLoopThreadEntry, context)
        guard result == 0 else {
            Unmanaged<ThreadContext>.fromOpaque(context).release()
            throw SpawnError(code: result)
        }
        #if canImport(Darwin)
        pthread_detach(thread!)
        #else
        pthread_detach(thread)
        #endif
    }
}

private final class ThreadContext: Sendable {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

#if canImport(Darwin)
private func redisLoopThreadEntry(_ raw: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    let context = Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue()
    pthread_setname_np(context.name)
    tg_redis_block_sigpipe()
    context.body()
    return nil
}
#else
private func redisLoopThreadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let context = Unmanaged<ThreadContext>.fromOpaque(raw!).takeRetainedValue()
    tg_redis_set_thread_name(context.name)
    tg_redis_block_sigpipe()
    context.body()
    return nil
}
#endif

/// Monotonic clock in nanoseconds, shared by callers (deadlines) and loop threads.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
