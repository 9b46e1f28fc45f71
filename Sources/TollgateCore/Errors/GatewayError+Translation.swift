import NIOCore

extension GatewayError {
    /// A parameter the target provider has no equivalent for. Translating it would change
    /// what the app asked for, so it is refused unless `translation.drop_unsupported` drops it.
    public static func unsupportedParameter(_ param: String, provider: String, detail: String? = nil) -> Self {
        .init(
            status: 400,
            type: "invalid_request_error",
            code: "unsupported_parameter",
            param: param,
            message: "'\(param)' is not supported when this model is served by \(provider)"
                + (detail.map { ": \($0)" } ?? ".")
                + " Remove it, or ask the gateway operator to drop unsupported parameters (translation.drop_unsupported)."
        )
    }

    /// The provider's event stream or answer body could not be understood.
    public static func upstreamInvalidStream(_ detail: String) -> Self {
        .init(
            status: 502,
            type: "upstream_error",
            code: "upstream_invalid_response",
            message: "The provider's answer could not be read: \(detail)."
        )
    }
}

// MARK: - OpenAI rendering

extension GatewayError {
    /// Writes `{"error":{"message","type","param","code"}}`, the OpenAI error body.
    public func writeOpenAIErrorBody(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"error":{"message":"#)
        buffer.writeJSONQuoted(self.message)
        buffer.writeStaticString(#","type":"#)
        buffer.writeJSONQuoted(self.type)
        buffer.writeStaticString(#","param":"#)
        if let param { buffer.writeJSONQuoted(param) } else { buffer.writeStaticString("null") }
        buffer.writeStaticString(#","code":"#)
        if let code { buffer.writeJSONQuoted(code) } else { buffer.writeStaticString("null") }
        buffer.writeStaticString("}}")
    }

    /// The OpenAI error body as one `data:` event, which is how OpenAI reports a failure
    /// after a stream has started (its SDKs raise on an `error` key in a chunk).
    public func writeOpenAIStreamEvent(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("data: ")
        self.writeOpenAIErrorBody(into: &buffer)
        buffer.writeStaticString("\n\n")
    }
}

// MARK: - Anthropic rendering

extension GatewayError {
    /// The Anthropic `error.type` for this error, chosen by status the way Anthropic's own
    /// API assigns them (its SDKs pick the exception class by status, the type is for people).
    public var anthropicErrorType: String {
        switch self.status {
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 503, 529: "overloaded_error"
        case 504: "timeout_error"
        case 400..<500: "invalid_request_error"
        default: "api_error"
        }
    }

    /// Writes `{"type":"error","error":{"type","message"}}`, the Anthropic error body.
    public func writeAnthropicErrorBody(into buffer: inout ByteBuffer, requestID: String? = nil) {
        buffer.writeStaticString(#"{"type":"error","error":{"type":"#)
        buffer.writeJSONQuoted(self.anthropicErrorType)
        buffer.writeStaticString(#","message":"#)
        buffer.writeJSONQuoted(self.message)
        buffer.writeStaticString("}")
        if let requestID {
            buffer.writeStaticString(#","request_id":"#)
            buffer.writeJSONQuoted(requestID)
        }
        buffer.writeStaticString("}")
    }

    /// The Anthropic error body on its own, for a non-streamed answer.
    public func anthropicBody(requestID: String? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        self.writeAnthropicErrorBody(into: &buffer, requestID: requestID)
        return buffer
    }

    /// `event: error` with the Anthropic error body: how Anthropic reports a failure after a
    /// stream has started (for example `overloaded_error`).
    public func writeAnthropicStreamEvent(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("event: error\ndata: ")
        self.writeAnthropicErrorBody(into: &buffer)
        buffer.writeStaticString("\n\n")
    }

    /// The `event: error` event on its own.
    public func anthropicStreamEvent() -> ByteBuffer {
        var buffer = ByteBuffer()
        self.writeAnthropicStreamEvent(into: &buffer)
        return buffer
    }
}
