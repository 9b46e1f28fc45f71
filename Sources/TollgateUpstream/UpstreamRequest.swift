import NIOCore

/// Per-request time limits.
public struct UpstreamTimeouts: Sendable {
    /// DNS + TCP connect + TLS handshake.
    public var connect: Duration
    /// The whole transfer, body included; nil for none (streams can run long).
    public var total: Duration?
    /// No byte received for this long fails the transfer (counted from submission, so
    /// waiting for a free connection counts). Time spent paused because the consumer is
    /// slow (backpressure) does not count.
    public var idle: Duration
    /// The response head must arrive this long after submission (connecting included);
    /// nil: only `idle` bounds the wait. Fails with ``UpstreamError/firstByteTimeout``.
    public var firstByte: Duration?

    public init(connect: Duration = .seconds(10), total: Duration? = nil, idle: Duration = .seconds(60), firstByte: Duration? = nil) {
        self.connect = connect
        self.total = total
        self.idle = idle
        self.firstByte = firstByte
    }
}

/// One HTTP request to an upstream provider.
public struct UpstreamRequest: Sendable {
    /// "GET", "POST", ...
    public var method: String
    public var url: String
    /// Sent as given, except `Content-Length` and `Transfer-Encoding`, which the client
    /// sets from ``body``. Names and values must not contain line breaks.
    public var headers: [(name: String, value: String)]
    /// Sent as-is with `Content-Length`.
    public var body: ByteBuffer?
    public var timeouts: UpstreamTimeouts

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: ByteBuffer? = nil,
        timeouts: UpstreamTimeouts = .init()
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `0...UInt64.max / 2`.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = self.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= Int64(UInt64.max / 2 / 1_000_000_000) { return UInt64.max / 2 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
