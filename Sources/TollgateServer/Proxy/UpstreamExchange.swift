import Foundation
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// One call to a provider on behalf of a client request: builds the upstream request with the
/// provider's credential, times it, and turns transport failures and provider error bodies
/// into `GatewayError`s that never carry the provider's key or account details.
struct UpstreamExchange {
    let gateway: Gateway
    let provider: Provider
    let model: ResolvedModel
    let logger: Logger
    /// The matched route's timeouts; unset ones fall back to the provider's.
    var routeTimeouts = RouteTimeouts()

    /// Largest provider answer the gateway holds in memory for a non-streamed response.
    static let maxCollectedBytes = 64 << 20

    /// Sends `body` to the provider's `endpoint` (for the upstream model: an Azure deployment)
    /// and returns once the provider's status and headers arrived. `extraHeaders` are
    /// per-request headers the client may pass through (`anthropic-beta`).
    func send(
        _ endpoint: ProviderEndpoint, body: ByteBuffer?, method: String = "POST",
        extraHeaders: [(name: String, value: String)] = []
    ) async throws(GatewayError) -> UpstreamResponse {
        guard let url = self.provider.config.url(for: endpoint, model: self.model.upstreamModel) else {
            throw GatewayError.invalidRequest(
                "The model '\(self.model.model)' is served by the \(self.provider.config.kind.rawValue) provider '\(self.provider.name)', which has no \(endpoint) endpoint.",
                param: "model"
            )
        }
        var headers = self.gateway.upstreamHeaders(for: self.provider, hasBody: body != nil)
        if !extraHeaders.isEmpty { headers += extraHeaders }
        let request = UpstreamRequest(
            method: method,
            url: url,
            headers: headers,
            body: body,
            timeouts: UpstreamTimeouts(
                connect: self.provider.config.timeouts.connect,
                total: self.routeTimeouts.total ?? self.provider.config.timeouts.total,
                // The client's idle timer also bounds the wait for the first byte.
                idle: self.routeTimeouts.idle ?? self.routeTimeouts.firstByte ?? self.provider.config.timeouts.idle
            )
        )
        let start = ContinuousClock.now
        do {
            let response = try await self.gateway.upstream.execute(request)
            self.gateway.metrics.recordUpstreamLatency(
                provider: self.provider.name, model: self.model.metricLabel, duration: ContinuousClock.now - start
            )
            return response
        } catch let error as UpstreamError {
            self.logger.warning("upstream request failed", metadata: ["provider": "\(self.provider.name)", "error": "\(error)"])
            throw self.map(error)
        } catch {
            throw GatewayError(status: 499, type: "client_closed_request", message: "The client closed the request.")
        }
    }

    /// Reads a whole (non-streamed) provider answer.
    func collect(_ response: UpstreamResponse) async throws(GatewayError) -> ByteBuffer {
        do {
            return try await response.collectBody(upTo: Self.maxCollectedBytes)
        } catch let error as UpstreamError {
            throw self.map(error)
        } catch {
            throw GatewayError(status: 499, type: "client_closed_request", message: "The client closed the request.")
        }
    }

    /// A transport failure as the client should see it.
    func map(_ error: UpstreamError) -> GatewayError {
        switch error {
        case .connectFailed: return .upstreamUnreachable(provider: self.provider.name)
        case .connectTimeout, .totalTimeout, .idleTimeout: return .upstreamTimeout(provider: self.provider.name)
        case .connectionClosed: return .upstreamFailed(provider: self.provider.name, detail: "the connection closed before the answer was complete")
        case .responseTooLarge: return .upstreamFailed(provider: self.provider.name, detail: "the answer was too large")
        case .shutdown:
            return GatewayError(status: 503, type: "service_unavailable", code: "shutting_down", message: "The gateway is shutting down. Retry the request.")
        case .cancelled: return GatewayError(status: 499, type: "client_closed_request", message: "The client closed the request.")
        default: return .upstreamFailed(provider: self.provider.name, detail: "transport error")
        }
    }

    /// A provider's non-2xx answer, re-issued by the gateway. Client mistakes the provider
    /// caught (400, 404, 422) keep their status and message; credential problems become 502
    /// so the provider's account details never reach a client; 429 keeps Retry-After.
    func mapErrorResponse(_ response: UpstreamResponse) async -> GatewayError {
        let body = try? await response.collectBody(upTo: 1 << 20)
        let name = self.provider.name
        let mapped: GatewayError
        if self.provider.config.kind == .anthropic {
            mapped = AnthropicProviderError.map(
                status: response.status, body: body, headers: response.headers, provider: name, model: self.model.model,
                redact: self.scrub
            )
            self.logger.warning(
                "provider returned an error",
                metadata: ["provider": "\(name)", "upstream_status": "\(response.status)", "status": "\(mapped.status)"]
            )
            return mapped
        }
        let providerError = body.flatMap(ProviderErrorBody.parse)
        switch response.status {
        case 401, 403:
            mapped = GatewayError(
                status: 502, type: "upstream_error", code: "upstream_auth_failed",
                message: "The provider '\(name)' rejected the gateway's credentials. The gateway operator needs to check its API key."
            )
        case 429:
            let retryAfter = response.header("retry-after")
            mapped = GatewayError(
                status: 429, type: "rate_limit_error", code: "rate_limit_exceeded",
                message: "The provider '\(name)' is rate limiting requests for '\(self.model.model)'."
                    + (retryAfter.map { " Retry after \($0) seconds." } ?? " Retry shortly."),
                headers: retryAfter.map { [("Retry-After", $0)] } ?? []
            )
        case 400, 404, 409, 413, 415, 422:
            mapped = GatewayError(
                status: response.status,
                type: providerError?.type ?? "invalid_request_error",
                code: providerError?.code,
                param: providerError?.param,
                message: self.scrub(providerError?.message ?? "The provider '\(name)' rejected the request (status \(response.status)).")
            )
        case 503, 529:
            mapped = .providerUnavailable(provider: name, reason: "it is overloaded or down (status \(response.status))")
        case 504:
            mapped = .upstreamTimeout(provider: name)
        default:
            mapped = .upstreamFailed(provider: name, detail: "it answered with status \(response.status)")
        }
        self.logger.warning(
            "provider returned an error",
            metadata: ["provider": "\(name)", "upstream_status": "\(response.status)", "status": "\(mapped.status)"]
        )
        return mapped
    }

    /// Removes the provider credential from text that came from the provider.
    private func scrub(_ text: String) -> String {
        self.scrubber?.scrub(text) ?? text
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
