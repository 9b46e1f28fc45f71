import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A bound on open client connections, below the process's file-descriptor limit, so that
/// sockets an attacker opens and leaves idle cannot starve the gateway of descriptors (accept
/// failing in a loop, the upstream client, Redis and the routes reloader unable to open
/// anything). A connection over the bound is closed as soon as it is accepted.
final class ConnectionLimit: Sendable {
    /// Descriptors kept for everything but client connections (upstream, Redis, SQLite, files).
    static let reserve = 256

    let maximum: Int
    private let open = Atomic<Int>(0)
    private let refusedTotal = Atomic<Int>(0)

    init(maximum: Int) { self.maximum = maximum }

    /// Raises the soft descriptor limit to the hard one where allowed, and returns the bound:
    /// `configured`, or the limit less ``reserve`` (never below 16). Logs when `configured`
    /// leaves no room for the reserve.
    static func make(configured: Int?, logger: Logger) -> ConnectionLimit {
        var limit = rlimit()
        var descriptors = 1024
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            if limit.rlim_cur < limit.rlim_max {
                var raised = limit
                raised.rlim_cur = limit.rlim_max
                if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
            }
            descriptors = Int(min(limit.rlim_cur, 1 << 20))  // RLIM_INFINITY is the largest value
        }
        let automatic = max(descriptors - reserve, 16)
        if let configured, configured > automatic {
            logger.warning(
                "server.max_connections is above the file-descriptor limit less a reserve; idle sockets could exhaust descriptors",
                metadata: ["max_connections": "\(configured)", "descriptor_limit": "\(descriptors)"]
            )
        }
        return ConnectionLimit(maximum: configured ?? automatic)
    }

    var openConnections: Int { self.open.load(ordering: .relaxed) }
    var refused: Int { self.refusedTotal.load(ordering: .relaxed) }

    /// The handler that counts one connection (one per channel).
    func handler() -> Handler { Handler(limit: self) }

    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        private let limit: ConnectionLimit
        private var counted = false

        init(limit: ConnectionLimit) { self.limit = limit }

        func handlerAdded(context: ChannelHandlerContext) {
            let now = self.limit.open.add(1, ordering: .relaxed).newValue
            self.counted = true
            if now > self.limit.maximum {
                self.limit.refusedTotal.add(1, ordering: .relaxed)
                context.close(promise: nil)
            }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            guard self.counted else { return }
            self.counted = false
            self.limit.open.subtract(1, ordering: .relaxed)
        }
    }
}
