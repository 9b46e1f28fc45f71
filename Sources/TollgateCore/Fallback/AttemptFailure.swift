/// Why one upstream attempt gave no answer. It stays typed (what failed, the provider's
/// status, its `Retry-After`) while the fallback chain decides what to try next; only the
/// failure the client finally gets becomes its `error`.
public struct AttemptFailure: Sendable, Error {
    public enum Kind: Sendable, Equatable {
        case connectFailed
        case connectTimeout
        /// No response head (or, for a stream, no content) within the first-byte timeout.
        case firstByteTimeout
        case idleTimeout
        case totalTimeout
        /// The provider closed or reset the connection before the answer was complete.
        case connectionClosed
        /// The provider answered with this non-2xx status.
        case status(Int)
        /// A 2xx answer the gateway cannot use (not JSON, or a stream that ended before its end).
        case invalidAnswer
        /// The provider's stream reported an error before any content.
        case streamError
        /// Nothing was sent: the provider is not configured, has no key, or its circuit is open.
        case unavailable
        /// The client went away.
        case cancelled
    }

    public var kind: Kind
    /// The provider's `Retry-After`, when it sent one.
    public var retryAfter: Duration?
    /// The prompt did not fit the model's context window (OpenAI `context_length_exceeded`,
    /// Anthropic "prompt is too long").
    public var contextLengthExceeded: Bool
    /// What the client gets if no later step answers: in the gateway's error shape, scrubbed.
    public var error: GatewayError
    /// The provider had answered with a 2xx head before the failure: it may bill the attempt.
    public var providerAnswered = false

    public init(_ kind: Kind, error: GatewayError, retryAfter: Duration? = nil, contextLengthExceeded: Bool = false) {
        self.kind = kind
        self.error = error
        self.retryAfter = retryAfter
        self.contextLengthExceeded = contextLengthExceeded
    }

    /// What the chain does next.
    public var disposition: FailureDisposition {
        switch self.kind {
        case .cancelled: return .final
        case .connectFailed, .connectTimeout, .connectionClosed, .idleTimeout, .streamError: return .retry
        case .firstByteTimeout, .totalTimeout, .invalidAnswer, .unavailable: return .nextTarget
        case .status(let status):
            switch status {
            case 408, 429, 500, 502, 503, 504, 529: return .retry
            // The deployment cannot serve this (credentials, a model it lacks): another may.
            case 401, 403, 404: return .nextTarget
            case 400..<500: return self.contextLengthExceeded ? .largerWindow : .final
            default: return .nextTarget
            }
        }
    }

    /// Whether the failure says something about the deployment's health (its circuit
    /// breaker counts it), rather than about the request.
    public var isDeploymentFault: Bool {
        switch self.kind {
        case .connectFailed, .connectTimeout, .firstByteTimeout, .idleTimeout, .totalTimeout, .connectionClosed, .invalidAnswer,
            .streamError:
            return true
        case .status(let status): return status == 408 || status == 429 || status >= 500
        case .unavailable, .cancelled: return false
        }
    }

    /// A short name for logs, the ledger and metrics: `status_503`, `first_byte_timeout`...
    public var label: String {
        switch self.kind {
        case .connectFailed: "connect_failed"
        case .connectTimeout: "connect_timeout"
        case .firstByteTimeout: "first_byte_timeout"
        case .idleTimeout: "idle_timeout"
        case .totalTimeout: "total_timeout"
        case .connectionClosed: "connection_closed"
        case .status(let status): self.contextLengthExceeded ? "context_length_exceeded" : "status_\(status)"
        case .invalidAnswer: "invalid_answer"
        case .streamError: "stream_error"
        case .unavailable: "unavailable"
        case .cancelled: "cancelled"
        }
    }
}

/// What the fallback chain does after a failed attempt.
public enum FailureDisposition: Sendable, Equatable {
    /// Try the same deployment again (after a backoff), then its siblings, then fallbacks.
    case retry
    /// Not worth repeating here: the next deployment of the model, else the next fallback.
    case nextTarget
    /// The prompt is too long for this model: the next fallback with a larger context window.
    case largerWindow
    /// The request itself is at fault (or the client left): no other step would answer it.
    case final
}
