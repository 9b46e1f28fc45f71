import Foundation
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// What calling a provider needs from the gateway: the HTTP client, the prebuilt provider
/// headers (credentials) and the metrics the calls are timed in.
struct UpstreamCaller: Sendable {
    let client: UpstreamClient
    let metrics: GatewayMetrics
    let providerHeaders: @Sendable (Provider, _ hasBody: Bool) -> [(name: String, value: String)]
}

/// One call to a provider on behalf of a client request: builds the upstream request with the
/// provider's credential, times it, and turns transport failures and provider error bodies
/// into typed `AttemptFailure`s that never carry account details (the attempt loop scrubs the
/// provider's key from every field).
struct UpstreamExchange {
    let caller: UpstreamCaller
    let provider: Provider
    let model: ResolvedModel
    let logger: Logger
    /// The matched route's timeouts; unset ones fall back to the provider's.
    var routeTimeouts = RouteTimeouts()
    /// The longest this call may take: what is left of the route's total deadline.
    var remaining: Duration?
    /// `traceparent` of the attempt's span, when traces are on.
    var traceHeaders: [(name: String, value: String)] = []

    /// Largest provider answer the gateway holds in memory for a non-streamed response.
    static let maxCollectedBytes = 64 << 20

    /// The first-byte timeout in force: the route's, else the provider's (nil: none).
    var firstByteTimeout: Duration? { self.routeTimeouts.firstByte ?? self.provider.config.timeouts.firstByte }

    /// The timeouts of this call.
    var timeouts: UpstreamTimeouts {
        var total = self.routeTimeouts.total ?? self.provider.config.timeouts.total
        if let remaining { total = min(total, max(remaining, .milliseconds(1))) }
        return UpstreamTimeouts(
            connect: self.provider.config.timeouts.connect,
            total: total,
            idle: self.routeTimeouts.idle ?? self.provider.config.timeouts.idle,
            firstByte: self.firstByteTimeout
        )
    }

    /// Sends `body` to the provider's `endpoint` (for the upstream model: an Azure deployment)
    /// and returns once the provider's status and headers arrived. `extraHeaders` are
    /// per-request headers the client may pass through (`anthropic-beta`).
    func send(
        _ endpoint: ProviderEndpoint, body: ByteBuffer?, method: String = "POST",
        extraHeaders: [(name: String, value: String)] = []
    ) async throws(AttemptFailure) -> UpstreamResponse {
        guard let url = self.provider.config.url(for: endpoint, model: self.model.upstreamModel) else {
            throw AttemptFailure(.unavailable, error: GatewayError.invalidRequest(
                "The model '\(self.model.model)' is served by the \(self.provider.config.kind.rawValue) provider '\(self.provider.name)', which has no \(endpoint) endpoint.",
                param: "model"
            ))
        }
        var headers = self.caller.providerHeaders(self.provider, body != nil)
        if !extraHeaders.isEmpty { headers += extraHeaders }
        if !self.traceHeaders.isEmpty { headers += self.traceHeaders }
        let request = UpstreamRequest(method: method, url: url, headers: headers, body: body, timeouts: self.timeouts)
        let start = ContinuousClock.now
        do {
            let response = try await self.caller.client.execute(request)
            self.caller.metrics.recordUpstreamLatency(
                provider: self.provider.name, model: self.model.metricLabel, duration: ContinuousClock.now - start
            )
            return response
        } catch let error as UpstreamError {
            self.logger.warning("upstream request failed", metadata: ["provider": "\(self.provider.name)", "error": "\(error)"])
            throw self.failure(error)
        } catch {
            throw Self.clientLeft
        }
    }

    /// Reads a whole (non-streamed) provider answer.
    func collect(_ response: UpstreamResponse) async throws(AttemptFailure) -> ByteBuffer {
        do {
            return try await response.collectBody(upTo: Self.maxCollectedBytes)
        } catch let error as UpstreamError {
            throw self.failure(error)
        } catch {
            throw Self.clientLeft
        }
    }

    static let clientLeft = AttemptFailure(
        .cancelled, error: GatewayError(status: 499, type: "client_closed_request", message: "The client closed the request.")
    )

    /// A transport failure, typed, with the error the client would see.
    func failure(_ error: UpstreamError) -> AttemptFailure {
        let name = self.provider.name
        switch error {
        case .connectFailed: return AttemptFailure(.connectFailed, error: .upstreamUnreachable(provider: name))
        case .connectTimeout: return AttemptFailure(.connectTimeout, error: .upstreamTimeout(provider: name))
        case .firstByteTimeout: return AttemptFailure(.firstByteTimeout, error: .upstreamTimeout(provider: name))
        case .idleTimeout: return AttemptFailure(.idleTimeout, error: .upstreamTimeout(provider: name))
        case .totalTimeout: return AttemptFailure(.totalTimeout, error: .upstreamTimeout(provider: name))
        case .connectionClosed:
            return AttemptFailure(.connectionClosed, error: .upstreamFailed(provider: name, detail: "the connection closed before the answer was complete"))
        case .responseTooLarge: return AttemptFailure(.invalidAnswer, error: .upstreamFailed(provider: name, detail: "the answer was too large"))
        case .shutdown:
            return AttemptFailure(.cancelled, error: GatewayError(
                status: 503, type: "service_unavailable", code: "shutting_down", message: "The gateway is shutting down. Retry the request."
            ))
        case .cancelled: return Self.clientLeft
        default: return AttemptFailure(.connectionClosed, error: .upstreamFailed(provider: name, detail: "transport error"))
        }
    }

    /// A transport failure in the middle of a relayed stream, as the client sees it.
    static func streamFailure(_ error: UpstreamError, provider: String) -> GatewayError {
        switch error {
        case .idleTimeout, .totalTimeout, .firstByteTimeout: .upstreamTimeout(provider: provider)
        case .shutdown: GatewayError(status: 503, type: "service_unavailable", code: "shutting_down", message: "The gateway is shutting down. Retry the request.")
        default: .upstreamFailed(provider: provider, detail: "the connection closed before the answer was complete")
        }
    }

    /// A provider's non-2xx answer, typed, with the error the gateway would re-issue. Client
    /// mistakes the provider caught (400, 404, 422) keep their status and message; credential
    /// problems become 502 so the provider's account details never reach a client; 429 keeps
    /// Retry-After.
    func failure(answer response: UpstreamResponse) async -> AttemptFailure {
        let body = try? await response.collectBody(upTo: 1 << 20)
        let mapped = self.clientError(status: response.status, body: body, headers: response.headers)
        self.logger.warning(
            "provider returned an error",
            metadata: ["provider": "\(self.provider.name)", "upstream_status": "\(response.status)", "status": "\(mapped.status)"]
        )
        let retryAfter = response.header("retry-after").flatMap(Double.init).flatMap { $0 >= 0 && $0 < 86_400 ? Duration.seconds($0) : nil }
        let text = mapped.message.lowercased()
        let contextLength = mapped.code == "context_length_exceeded" || text.contains("prompt is too long")
            || text.contains("maximum context length") || text.contains("context window")
        return AttemptFailure(.status(response.status), error: mapped, retryAfter: retryAfter, contextLengthExceeded: contextLength)
    }

    private func clientError(status: Int, body: ByteBuffer?, headers: [(name: String, value: String)]) -> GatewayError {
        let name = self.provider.name
        if self.provider.config.kind == .anthropic {
            return AnthropicProviderError.map(status: status, body: body, headers: headers, provider: name, model: self.model.model)
        }
        let providerError = body.flatMap(ProviderErrorBody.parse)
        switch status {
        case 401, 403:
            return GatewayError(
                status: 502, type: "upstream_error", code: "upstream_auth_failed",
                message: "The provider '\(name)' rejected the gateway's credentials. The gateway operator needs to check its API key."
            )
        case 429:
            let retryAfter = headers.first { $0.name.lowercased() == "retry-after" }?.value
            return GatewayError(
                status: 429, type: "rate_limit_error", code: "rate_limit_exceeded",
                message: "The provider '\(name)' is rate limiting requests for '\(self.model.model)'."
                    + (retryAfter.map { " Retry after \($0) seconds." } ?? " Retry shortly."),
                headers: retryAfter.map { [("Retry-After", $0)] } ?? []
            )
        case 400, 404, 409, 413, 415, 422:
            return GatewayError(
                status: status,
                type: providerError?.type ?? "invalid_request_error",
                code: providerError?.code,
                param: providerError?.param,
                message: providerError?.message ?? "The provider '\(name)' rejected the request (status \(status))."
            )
        case 503, 529:
            return .providerUnavailable(provider: name, reason: "it is overloaded or down (status \(status))")
        case 504:
            return .upstreamTimeout(provider: name)
        default:
            return .upstreamFailed(provider: name, detail: "it answered with status \(status)")
        }
    }

    /// Finds the provider credential in what the provider sent (nil when it has none).
    var scrubber: SecretScrubber? {
        self.provider.credential.flatMap { SecretScrubber(secret: $0.secret) }
    }
}

/// The fields of an OpenAI-style error body that a provider sent.
struct ProviderErrorBody {
    var message: String?
    var type: String?
    var code: String?
    var param: String?

    static func parse(_ buffer: ByteBuffer) -> ProviderErrorBody? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any],
            let error = object["error"] as? [String: Any]
        else { return nil }
        return ProviderErrorBody(
            message: error["message"] as? String,
            type: error["type"] as? String,
            code: (error["code"] as? String) ?? (error["code"] as? Int).map(String.init),
            param: error["param"] as? String
        )
    }
}

extension Gateway {
    /// What proxying to a provider needs.
    var upstreamCaller: UpstreamCaller {
        UpstreamCaller(client: self.upstream, metrics: self.metrics, providerHeaders: { [self] in self.upstreamHeaders(for: $0, hasBody: $1) })
    }

    /// Headers for every upstream request to `provider` (built once at start-up).
    func upstreamHeaders(for provider: Provider, hasBody: Bool) -> [(name: String, value: String)] {
        if let headers = self.providerHeaders[provider.name] { return hasBody ? headers.withBody : headers.withoutBody }
        return Self.makeUpstreamHeaders(for: provider, hasBody: hasBody)
    }

    /// The provider's credential and configured extras. Client headers are never forwarded,
    /// so a gateway key cannot reach a provider.
    static func makeUpstreamHeaders(for provider: Provider, hasBody: Bool) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(4 + provider.config.headers.count)
        switch provider.config.kind {
        case .openai:
            if let credential = provider.credential { headers.append(("Authorization", "Bearer " + credential.secret)) }
        case .anthropic:
            if let credential = provider.credential { headers.append(("x-api-key", credential.secret)) }
            headers.append(("anthropic-version", provider.config.anthropicVersion))
        case .azureOpenAI:
            if let credential = provider.credential { headers.append(("api-key", credential.secret)) }
        }
        if hasBody { headers.append(("Content-Type", "application/json")) }
        headers.append(("Accept", "application/json, text/event-stream"))
        headers.append(("User-Agent", "tollgate/0.1"))
        for (name, value) in provider.config.headers { headers.append((name, value)) }
        return headers
    }
}
