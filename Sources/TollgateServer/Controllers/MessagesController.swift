import Hummingbird
import TollgateCore

/// `POST /v1/messages`: the Anthropic Messages API. Authenticates with `x-api-key` (what the
/// Anthropic SDK sends) or `Authorization: Bearer`, decodes the request and hands it to the
/// proxy pipeline, which routes it to any provider and answers in Anthropic's format. Every
/// error on this path, thrown anywhere, is rendered as an Anthropic error body
/// (`RequestIDMiddleware` picks the format by path).
struct MessagesController {
    let gateway: Gateway

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.post("/v1/messages") { request, context in
            try await self.handle(request, context: context)
        }
    }

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let key = try await self.gateway.keys.authenticate(request.headers)
        let body = try await RequestBody.collect(request, limit: self.gateway.config.server.maxBodyBytes)
        return try await RequestWork.run(bodySize: body.readableBytes) {
            let message = try RequestBody.decode(AnthropicMessagesRequest.self, from: body)
            let ingress = IngressRequest(anthropic: message, body: body, headers: request.headers)
            return try await ProxyPipeline(gateway: self.gateway).run(ingress, key: key, headers: request.headers, context: context, start: start)
        }
    }
}
