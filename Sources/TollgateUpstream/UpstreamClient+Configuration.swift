extension UpstreamClient {
    /// Connection and buffering limits of one client.
    public struct Configuration: Sendable {
        /// Connections open to one host at once (`CURLMOPT_MAX_HOST_CONNECTIONS`); further
        /// transfers queue inside curl. 0 for no limit.
        public var maxConnectionsPerHost: Int
        /// Connections open at once in all (`CURLMOPT_MAX_TOTAL_CONNECTIONS`); 0 for no limit.
        public var maxTotalConnections: Int
        /// Size of curl's connection cache, idle keep-alive connections included
        /// (`CURLMOPT_MAXCONNECTS`).
        public var maxCachedConnections: Int
        /// Buffered body bytes of one response above which its transfer is paused.
        public var bodyBufferHighWatermark: Int
        /// Buffered body bytes at or below which a paused transfer resumes.
        public var bodyBufferLowWatermark: Int
        /// Idle easy handles kept for reuse.
        public var handlePoolSize: Int
        /// Proxy URL for all transfers; nil for none (the `http_proxy` family of
        /// environment variables is ignored).
        public var proxy: String?
        /// PEM file of CA certificates to verify upstream TLS servers with; nil for the
        /// system's bundle.
        public var caBundlePath: String?

        public init(
            maxConnectionsPerHost: Int = 128,
            maxTotalConnections: Int = 0,
            maxCachedConnections: Int = 256,
            bodyBufferHighWatermark: Int = 256 * 1024,
            bodyBufferLowWatermark: Int = 64 * 1024,
            handlePoolSize: Int = 64,
            proxy: String? = nil,
            caBundlePath: String? = nil
        ) {
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.maxTotalConnections = maxTotalConnections
            self.maxCachedConnections = maxCachedConnections
            self.bodyBufferHighWatermark = bodyBufferHighWatermark
            self.bodyBufferLowWatermark = bodyBufferLowWatermark
            self.handlePoolSize = handlePoolSize
            self.proxy = proxy
            self.caBundlePath = caBundlePath
        }
    }
}
