extension RedisClient {
    /// Connections and timeouts of one client.
    public struct Configuration: Sendable {
        public var url: RedisURL
        /// Connections, each with its own thread; calls are spread over the connected ones.
        /// One pipelined connection carries tens of thousands of commands a second, so more
        /// only help when single commands are slow (long scripts).
        public var connections: Int
        /// Longest wait for the TCP (or unix socket) connect; each reply of the handshake
        /// that follows (AUTH, SELECT, PING) then waits up to ``commandTimeout``.
        public var connectTimeout: Duration
        /// Longest a caller waits for a reply, counted from the call. When the oldest
        /// outstanding command passes it, the connection is considered dead: it is closed
        /// and re-established, and its callers fail with ``RedisError/timeout``.
        public var commandTimeout: Duration
        /// Delay before the second reconnect attempt (the first is immediate); doubles up
        /// to ``maximumReconnectDelay``. Each delay is jittered down by up to half.
        public var initialReconnectDelay: Duration
        public var maximumReconnectDelay: Duration

        public init(
            url: RedisURL,
            connections: Int = 1,
            connectTimeout: Duration = .seconds(1),
            commandTimeout: Duration = .seconds(1),
            initialReconnectDelay: Duration = .milliseconds(50),
            maximumReconnectDelay: Duration = .seconds(2)
        ) {
            self.url = url
            self.connections = connections
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.initialReconnectDelay = initialReconnectDelay
            self.maximumReconnectDelay = maximumReconnectDelay
        }
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to 1 ns...~292 years.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = self.components
        guard seconds >= 0, attoseconds >= 0 else { return 1 }
        guard seconds < Int64(UInt64.max / 1_000_000_000) - 1 else { return UInt64.max / 2 }
        return max(1, UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000))
    }
}
