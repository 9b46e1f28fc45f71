/// Why an upstream transfer failed.
///
/// Compare against the static members (`error == .idleTimeout`, `case .connectFailed:`);
/// equality looks at the kind (and, for ``other(curlCode:message:)``, the curl code), not
/// at the message. Messages come from curl or from this module and never contain request
/// headers, which carry provider API keys.
public struct UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case connectFailed
        case connectTimeout
        case totalTimeout
        case idleTimeout
        case firstByteTimeout
        case connectionClosed
        case cancelled
        case shutdown
        case responseTooLarge
        case invalidRequest
        case other
    }

    private let code: Code
    /// The libcurl error code (`CURLcode`) behind this error, when curl reported it.
    public let curlCode: Int?
    /// Detail from curl or this module; never contains request headers.
    public let message: String?

    private init(_ code: Code, curlCode: Int? = nil, message: String? = nil) {
        self.code = code
        self.curlCode = curlCode
        self.message = message
    }

    /// DNS resolution, TCP connect or TLS handshake failed; the request was not sent.
    public static let connectFailed = UpstreamError(.connectFailed)
    /// No connection within ``UpstreamTimeouts/connect``; the request was not sent.
    public static let connectTimeout = UpstreamError(.connectTimeout)
    /// The transfer did not complete within ``UpstreamTimeouts/total``.
    public static let totalTimeout = UpstreamError(.totalTimeout)
    /// No byte arrived for ``UpstreamTimeouts/idle``.
    public static let idleTimeout = UpstreamError(.idleTimeout)
    /// No response head within ``UpstreamTimeouts/firstByte``, or the consumer gave up
    /// waiting for the first content (``UpstreamBody/abort(_:)``).
    public static let firstByteTimeout = UpstreamError(.firstByteTimeout)
    /// The peer closed or reset the connection before the response was complete.
    public static let connectionClosed = UpstreamError(.connectionClosed)
    /// The consumer cancelled the transfer.
    public static let cancelled = UpstreamError(.cancelled)
    /// The client shut down before the transfer completed.
    public static let shutdown = UpstreamError(.shutdown)
    /// ``UpstreamResponse/collectBody(upTo:)`` saw more bytes than allowed.
    public static let responseTooLarge = UpstreamError(.responseTooLarge)
    /// The request cannot be sent as given (bad method or header syntax).
    public static let invalidRequest = UpstreamError(.invalidRequest)

    /// Any other curl failure.
    public static func other(curlCode: Int, message: String) -> UpstreamError {
        UpstreamError(.other, curlCode: curlCode, message: message)
    }

    /// True for the four timeouts.
    public var isTimeout: Bool {
        self.code == .connectTimeout || self.code == .totalTimeout || self.code == .idleTimeout || self.code == .firstByteTimeout
    }

    func with(curlCode: Int?, message: String?) -> UpstreamError {
        UpstreamError(self.code, curlCode: curlCode, message: message)
    }

    public static func == (lhs: UpstreamError, rhs: UpstreamError) -> Bool {
        guard lhs.code == rhs.code else { return false }
        return lhs.code != .other || lhs.curlCode == rhs.curlCode
    }

    public var description: String {
        let kind: String
        switch self.code {
        case .connectFailed: kind = "upstream connect failed"
        case .connectTimeout: kind = "upstream connect timed out"
        case .totalTimeout: kind = "upstream request timed out"
        case .idleTimeout: kind = "upstream idle timeout"
        case .firstByteTimeout: kind = "upstream first byte timeout"
        case .connectionClosed: kind = "upstream closed the connection"
        case .cancelled: kind = "upstream transfer cancelled"
        case .shutdown: kind = "upstream client shut down"
        case .responseTooLarge: kind = "upstream response too large"
        case .invalidRequest: kind = "invalid upstream request"
        case .other: kind = "upstream transfer failed"
        }
        switch (self.curlCode, self.message) {
        case (let code?, let message?): return "\(kind) (curl \(code): \(message))"
        case (let code?, nil): return "\(kind) (curl \(code))"
        case (nil, let message?): return "\(kind) (\(message))"
        case (nil, nil): return kind
        }
    }
}
