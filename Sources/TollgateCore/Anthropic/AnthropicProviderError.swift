import NIOCore

/// Turns an Anthropic provider's error (an HTTP error answer, or an `error` event inside a
/// stream) into the `GatewayError` the client gets, with the same policy the gateway applies
/// to OpenAI-compatible providers: client mistakes keep their status and message, the
/// provider's credential or billing problems become 502 (they are the operator's to fix and
/// must not reveal account details), 429 keeps `Retry-After`, and 529 `overloaded_error`
/// becomes 503, a status every HTTP client knows to retry.
public enum AnthropicProviderError {
    /// Maps a non-2xx answer (the caller scrubs the provider credential from the result).
    public static func map(
        status: Int,
        body: ByteBuffer?,
        headers: [(name: String, value: String)],
        provider: String,
        model: String
    ) -> GatewayError {
        let payload = body.flatMap { try? WireJSON.decode(Envelope.self, from: $0) }?.error
        let retryAfter = headers.first { $0.name.lowercased() == "retry-after" }?.value
        return Self.map(
            status: status, errorType: payload?.type, message: payload?.message,
            retryAfter: retryAfter, provider: provider, model: model
        )
    }

    /// Maps an `event: error` received in the middle of a stream, which has a type but no
    /// status of its own.
    public static func mapStreamError(type: String?, message: String?, provider: String, model: String) -> GatewayError {
        Self.map(
            status: Self.status(forType: type), errorType: type, message: message,
            retryAfter: nil, provider: provider, model: model
        )
    }

    static func map(
        status: Int, errorType: String?, message: String?, retryAfter: String?, provider: String, model: String
    ) -> GatewayError {
        if status == 529 || errorType == "overloaded_error" {
            return GatewayError(
                status: 503, type: "service_unavailable", code: "provider_overloaded",
                message: "The provider '\(provider)' is overloaded. Retry shortly."
                    + (message.map { " (\($0))" } ?? "")
            )
        }
        switch status {
        case 401, 403:
            return GatewayError(
                status: 502, type: "upstream_error", code: "upstream_auth_failed",
                message: "The provider '\(provider)' rejected the gateway's credentials. The gateway operator needs to check its API key."
            )
        case 402:
            return GatewayError(
                status: 502, type: "upstream_error", code: "upstream_billing",
                message: "The provider '\(provider)' refused the request for billing reasons. The gateway operator needs to check the account."
            )
        case 429:
            return GatewayError(
                status: 429, type: "rate_limit_error", code: "rate_limit_exceeded",
                message: "The provider '\(provider)' is rate limiting requests for '\(model)'."
                    + (retryAfter.map { " Retry after \($0) seconds." } ?? " Retry shortly."),
                headers: retryAfter.map { [("Retry-After", $0)] } ?? []
            )
        case 400, 404, 409, 413, 415, 422:
            return GatewayError(
                status: status,
                type: "invalid_request_error",
                code: errorType == "request_too_large" || status == 413 ? "request_too_large" : nil,
                message: message ?? "The provider '\(provider)' rejected the request (status \(status))."
            )
        case 503:
            return .providerUnavailable(provider: provider, reason: "it is overloaded or down (status 503)")
        case 504:
            return .upstreamTimeout(provider: provider)
        default:
            return .upstreamFailed(
                provider: provider,
                detail: "it answered with status \(status)" + (errorType.map { " (\($0))" } ?? "")
            )
        }
    }

    /// The status Anthropic uses for each documented error type.
    static func status(forType type: String?) -> Int {
        switch type {
        case "invalid_request_error": 400
        case "authentication_error": 401
        case "billing_error": 402
        case "permission_error": 403
        case "not_found_error": 404
        case "request_too_large": 413
        case "rate_limit_error": 429
        case "timeout_error": 504
        case "overloaded_error": 529
        default: 500
        }
    }

    struct Envelope: Decodable {
        var error: Payload?
    }

    struct Payload: Decodable {
        var type: String?
        var message: String?
    }
}
