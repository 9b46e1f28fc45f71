#if canImport(Glibc)
import CCurl
import Glibc
#elseif canImport(Musl)
import CCurl
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a detached OS thread (not a Swift concurrency executor) for the curl loop.
enum LoopThread {
    struct SpawnError: Error, CustomStringConvertible {
        let code: Int32
        var description: String { "could not start the upstream loop thread (pthread_create: \(self.code))" }
    }

    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws {
        let context = Unmanaged.passRetained(ThreadContext(name: name, body: body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let result = pthread_create(&thread, nil, loopThreadEntry, context)
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
private func loopThreadEntry(_ raw: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    let context = Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue()
    pthread_setname_np(context.name)
    context.body()
    return nil
}
#else
private func loopThreadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let context = Unmanaged<ThreadContext>.fromOpaque(raw!).takeRetainedValue()
    tg_set_current_thread_name(context.name)
    context.body()
    return nil
}
#endif
