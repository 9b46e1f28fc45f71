import CTollgateThreads

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a detached, named OS thread (not a Swift concurrency executor) for a loop that
/// blocks in poll(2): the curl loop and the Redis connection loops.
package enum LoopThread {
    package struct SpawnError: Error, CustomStringConvertible {
        package let name: String
        package let code: Int32
        package var description: String { "could not start the thread \(self.name) (pthread_create: \(self.code))" }
    }

    /// `blockSIGPIPE`: for loops that write to sockets themselves (hiredis); curl already
    /// writes with MSG_NOSIGNAL.
    package static func spawn(name: String, blockSIGPIPE: Bool = false, _ body: @escaping @Sendable () -> Void) throws(SpawnError) {
        let context = Unmanaged.passRetained(ThreadContext(name: name, blockSIGPIPE: blockSIGPIPE, body: body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let result = pthread_create(&thread, nil, loopThreadEntry, context)
        guard result == 0 else {
            Unmanaged<ThreadContext>.fromOpaque(context).release()
            throw SpawnError(name: name, code: result)
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
    let blockSIGPIPE: Bool
    let body: @Sendable () -> Void

    init(name: String, blockSIGPIPE: Bool, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.blockSIGPIPE = blockSIGPIPE
        self.body = body
    }

    func run() {
        #if canImport(Darwin)
        pthread_setname_np(self.name)
        #else
        tg_thread_set_name(self.name)
        #endif
        if self.blockSIGPIPE { tg_thread_block_sigpipe() }
        self.body()
    }
}

#if canImport(Darwin)
private func loopThreadEntry(_ raw: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue().run()
    return nil
}
#else
private func loopThreadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadContext>.fromOpaque(raw!).takeRetainedValue().run()
    return nil
}
#endif
