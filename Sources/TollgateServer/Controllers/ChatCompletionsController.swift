import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// `POST /v1/chat/completions`: authenticates, validates, resolves the model to a provider
/// and relays the provider's answer, streaming it chunk by chunk when the client asked to.
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
        var completion = try RequestBody.decode(ChatCompletionRequest.self, from: body)

        let rules = self.gateway.routing.rules
        let requestedModel = completion.model
        guard rules.isAlias(requestedModel) || self.gateway.providers.resolve(model: requestedModel)?.kind == .chat else {
            throw GatewayError.modelNotFound(requestedModel)
        }
        // The key must allow what the app asked for; the models the ops' rules pick for an
        // alias or a downgrade are the operator's decision.
        guard key.allows(model: requestedModel) else { throw GatewayError.modelNotAllowed(requestedModel) }
        let user = completion.user ?? request.headers[.tollgateUser]
        let tags: RoutingTags
        do {
            tags = try RoutingTags.parse(headerValues: request.headers[values: .tollgateTag])
        } catch {
            throw GatewayError.invalidRequest("Invalid X-Tollgate-Tag header: \(error.reason)")
        }
        let costs = self.gateway.costs
        let scopes = costs.scopes(key: key, user: user ?? key.user)
        let features = RequestFeatures(
            request: completion, key: key, endUser: user, tags: tags, timeZone: self.gateway.timeZone,
            budgetUsedPercent: costs.budgetUsedPercent(scopes), tokenizers: self.gateway.tokenizers
        )
        let decision = rules.evaluate(features)
        let target = try self.gateway.target(for: decision)
        let resolved = target.resolved
        let provider = target.provider
        // From here on the observation accounts for the request however it ends.
        let observation = RequestObservation(
            metrics: self.gateway.metrics, costs: costs, ledger: self.gateway.ledger,
            context: LedgerContext(
                requestID: context.requestID, key: key, user: user ?? key.user, requestedModel: requestedModel,
                servedModel: resolved.model, provider: provider.name, stream: completion.isStreaming
            ),
            route: decision.route, model: resolved.metricLabel, start: start, onFinish: target.release
        )

        var logger = context.logger
        logger[metadataKey: "route"] = .string(decision.route)
        logger[metadataKey: "model"] = .string(resolved.model)
        logger[metadataKey: "key"] = .string(key.id)
        if let user { logger[metadataKey: "user"] = .string(user) }

        // The body goes upstream byte for byte unless the gateway has to change something:
        // the model (routing or an upstream rename), the output cap, or asking for usage.
        var upstreamBody = body
        let ticket: CostTicket
        var clientWantsUsage = false
        do {
            var changed = false
            if resolved.upstreamModel != requestedModel {
                completion.model = resolved.upstreamModel
                changed = true
            }
            if let capped = decision.caps.outputTokenLimit(requested: completion.outputTokenLimit), capped != completion.outputTokenLimit {
                if completion.maxCompletionTokens != nil || completion.maxTokens == nil {
                    completion.maxCompletionTokens = capped
                } else {
                    completion.maxTokens = capped
                }
                changed = true
            }
            // A stream is priced from its usage chunk: ask for it, and hide it again from a
            // client that did not ask.
            if completion.isStreaming {
                clientWantsUsage = completion.requestStreamUsage()
                changed = changed || !clientWantsUsage
            }
            let price = try costs.price(for: resolved.model)
            ticket = try await costs.admit(
                requestID: context.requestID, scopes: scopes, price: price, inputTokens: features.promptTokens,
                maxOutputTokens: completion.outputTokenLimit, logger: logger
            )
            observation.admitted(ticket)
            if changed { upstreamBody = try RequestBody.encode(completion) }
        } catch {
            observation.finish(failing: error)
            throw error
        }

        let exchange = UpstreamExchange(
            gateway: self.gateway, provider: provider, model: resolved, logger: logger, routeTimeouts: decision.timeouts
        )
        let upstream: UpstreamResponse
        do {
            upstream = try await exchange.send(path: "/chat/completions", body: upstreamBody)
        } catch {
            observation.finish(failing: error)
            throw error
        }
        observation.upstreamResponded(status: upstream.status)
        var headers = self.responseHeaders(route: decision.route, resolved: resolved, upstream: upstream)
        ticket.addRateLimitHeaders(to: &headers)

        guard (200..<300).contains(upstream.status) else {
            var error = await exchange.mapErrorResponse(upstream)
            observation.finish(failing: error)
            error.headers += headers.filter { $0.name.canonicalName.hasPrefix("x-ratelimit") }.map { ($0.name.canonicalName, $0.value) }
            return error.response(format: .openAI)
        }
        guard completion.isStreaming else {
            let answer: ByteBuffer
            do {
                answer = try await exchange.collect(upstream)
            } catch {
                observation.finish(failing: error)
                throw error
            }
            observation.record(usage: TokenUsage.fromOpenAIBody(answer))
            headers[.tollgateCostUSD] = observation.cost.description
            headers[.contentType] = upstream.header("content-type") ?? "application/json"
            observation.finish(status: upstream.status)
            logger.info("request completed", metadata: ["status": "\(upstream.status)", "duration_ms": "\(observation.elapsed.milliseconds)"])
            return Response(status: .init(code: upstream.status), headers: headers, body: .init(byteBuffer: answer))
        }

        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        // The cost of a stream is known only at its end: it follows as a trailer.
        headers[.trailerFields] = HTTPField.Name.tollgateCostUSD.canonicalName
        let relay = StreamRelay(
            upstream: upstream, transcoder: OpenAIStreamPassthrough(clientWantsUsage: clientWantsUsage), exchange: exchange,
            observation: observation, metrics: self.gateway.metrics, providerName: provider.name, modelLabel: resolved.metricLabel,
            logger: logger
        )
        return Response(status: .ok, headers: headers, body: relay.body)
    }

    private func responseHeaders(route: String, resolved: ResolvedModel, upstream: UpstreamResponse) -> HTTPFields {
        var headers = HTTPFields()
        headers.reserveCapacity(10)
        headers[.tollgateRoute] = route
        headers[.tollgateModel] = resolved.model
        headers[.tollgateCache] = "miss"
        headers[.tollgateFallback] = "none"
        if let upstreamID = upstream.header("x-request-id") { headers[.upstreamRequestID] = upstreamID }
        return headers
    }
}

extension Duration {
    var milliseconds: Int64 { self.nanoseconds / 1_000_000 }
}
