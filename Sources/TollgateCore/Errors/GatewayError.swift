/// An error the gateway answers a client with. It knows its HTTP status and the fields of
/// the OpenAI error body; the server renders it in whichever ingress format was used.
public struct GatewayError: Error, Sendable, Equatable {
    public var status: Int
    /// OpenAI `error.type`, e.g. `invalid_request_error`.
    public var type: String
    /// OpenAI `error.code`, e.g. `model_not_found`.
    public var code: String?
    public var param: String?
    public var message: String
    /// Extra response headers, such as `Retry-After`.
    public var headers: [(name: String, value: String)]

    public init(
        status: Int,
        type: String,
        code: String? = nil,
        param: String? = nil,
        message: String,
        headers: [(name: String, value: String)] = []
    ) {
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.message = message
        self.headers = headers
    }

    public static func == (lhs: GatewayError, rhs: GatewayError) -> Bool {
        lhs.status == rhs.status && lhs.type == rhs.type && lhs.code == rhs.code && lhs.param == rhs.param
            && lhs.message == rhs.message && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
    }
}

extension GatewayError {
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> Self {
        .init(status: 400, type: "invalid_request_error", code: code, param: param, message: message)
    }

    public static func invalidBody(_ error: RequestValidationError) -> Self {
        .invalidRequest(error.message, param: error.param)
    }

    public static let missingKey = GatewayError(
        status: 401,
        type: "invalid_request_error",
        code: "missing_api_key",
        message: "You didn't provide an API key. Send your gateway key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
    )

    public static let invalidKey = GatewayError(
        status: 401,
        type: "invalid_request_error",
        code: "invalid_api_key",
        message: "Incorrect API key provided. Check the gateway key your app sends."
    )

    public static func modelNotAllowed(_ model: String) -> Self {
        .init(
            status: 403,
            type: "permission_error",
            code: "model_not_allowed",
            param: "model",
            message: "This key is not allowed to use the model '\(model)'."
        )
    }

    public static func userNotAllowed(claimed: String, param: String) -> Self {
        .init(
            status: 403,
            type: "permission_error",
            code: "user_not_allowed",
            param: param,
            message: "This key is bound to one user; it cannot act as '\(claimed)' (\(param)). Omit the user or send the key's own."
        )
    }

    public static func modelNotFound(_ model: String) -> Self {
        .init(
            status: 404,
            type: "invalid_request_error",
            code: "model_not_found",
            param: "model",
            message: "The model '\(model)' does not exist or is not served by this gateway."
        )
    }

    public static func notFound(path: String) -> Self {
        .init(
            status: 404,
            type: "invalid_request_error",
            code: "unknown_url",
            message: "Unknown request URL: \(path). Supported endpoints include POST /v1/chat/completions, POST /v1/messages, POST /v1/embeddings and GET /v1/models."
        )
    }

    public static func methodNotAllowed(method: String, path: String) -> Self {
        .init(
            status: 405,
            type: "invalid_request_error",
            code: "method_not_allowed",
            message: "Method \(method) is not allowed on \(path)."
        )
    }

    public static func bodyTooLarge(limit: Int?) -> Self {
        .init(
            status: 413,
            type: "invalid_request_error",
            code: "request_too_large",
            message: "The request body is larger than this gateway accepts" + (limit.map { " (\($0) bytes)." } ?? "."),
            // The rest of the body is never read: the connection cannot carry another request.
            headers: [("Connection", "close")]
        )
    }

    /// The HTTP framing of the request (chunk sizes, lengths) could not be parsed: nothing after
    /// it on the connection can be trusted, so the connection is closed after this answer.
    public static let malformedFraming = Self(
        status: 400,
        type: "invalid_request_error",
        code: "malformed_http",
        message: "The request's HTTP framing is malformed (e.g. an invalid chunk size). The connection is closed.",
        headers: [("Connection", "close")]
    )

    public static func providerUnavailable(provider: String, reason: String) -> Self {
        .init(
            status: 503,
            type: "service_unavailable",
            code: "provider_unavailable",
            message: "The provider '\(provider)' is unavailable: \(reason)"
        )
    }

    public static func upstreamUnreachable(provider: String) -> Self {
        .init(
            status: 502,
            type: "upstream_error",
            code: "upstream_unreachable",
            message: "The gateway could not reach the provider '\(provider)'."
        )
    }

    public static func upstreamTimeout(provider: String) -> Self {
        .init(
            status: 504,
            type: "upstream_error",
            code: "upstream_timeout",
            message: "The provider '\(provider)' did not answer in time."
        )
    }

    public static func upstreamFailed(provider: String, detail: String) -> Self {
        .init(
            status: 502,
            type: "upstream_error",
            code: "upstream_error",
            message: "The provider '\(provider)' failed: \(detail)"
        )
    }

    public static let internalError = GatewayError(
        status: 500,
        type: "server_error",
        code: "internal_error",
        message: "The gateway hit an internal error. The request id in X-Tollgate-Request-Id identifies it in the logs."
    )
}
