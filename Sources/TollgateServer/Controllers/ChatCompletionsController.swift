import Hummingbird
import TollgateCore

/// `POST /v1/chat/completions`: authenticates, decodes the OpenAI request and hands it to the
/// proxy pipeline, which routes it to any provider and answers in OpenAI's format.
struct ChatCompletionsController {
    let gateway: Gateway

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.post("/v1/chat/completions") { request, context in
            try await self.handle(request, context: context)
        }
    }

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let key = try await self.gateway.keys.authenticate(request.headers)
        let body = try await RequestBody.collect(request, limit: self.gateway.config.server.maxBodyBytes)
        return try await RequestWork.run(bodySize: body.readableBytes) {
            let completion = try RequestBody.decodeChatCompletion(from: body)
            let ingress = IngressRequest(openAI: completion, body: body, headers: request.headers)
            return try await ProxyPipeline(gateway: self.gateway).run(ingress, key: key, headers: request.headers, context: context, start: start)
        }
    }
}

extension Duration {
    var milliseconds: Int64 { self.nanoseconds / 1_000_000 }
}
