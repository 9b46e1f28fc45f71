import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// The steps every proxied chat request takes, whichever format it came in: model and key
/// checks, routing, cost controls (scopes, admission, pricing from usage), the upstream call
/// planned by `UpstreamPlan`, and the answer or stream in the client's own format.
struct ProxyPipeline {
    let gateway: Gateway

    func run(
        _ ingress: IngressRequest, key: GatewayKey, headers requestHeaders: HTTPFields, context: GatewayRequestContext,
        start: ContinuousClock.Instant
    ) async throws -> Response {
        let rules = self.gateway.routing.rules
        let requestedModel = ingress.model
        guard rules.isAlias(requestedModel) || self.gateway.providers.resolve(model: requestedModel)?.kind == .chat else {
            throw GatewayError.modelNotFound(requestedModel)
        }
        // The key must allow what the app asked for; the models the ops' rules pick for an
        // alias or a downgrade are the operator's decision.
        guard key.allows(model: requestedModel) else { throw GatewayError.modelNotAllowed(requestedModel) }
        let user = ingress.user
        let tags: RoutingTags
        do {
            tags = try RoutingTags.parse(headerValues: requestHeaders[values: .tollgateTag])
        } catch {
            throw GatewayError.invalidRequest("Invalid X-Tollgate-Tag header: \(error.reason)")
        }
        let costs = self.gateway.costs
        let scopes = costs.scopes(key: key, user: user ?? key.user)
        let budgetDays = costs.budgetDays(for: scopes)
        // Looked up only when a rule reads it.
        let budgetUsed = rules.readsBudgetUsedPercent ? costs.budgetUsedPercent(scopes, days: budgetDays) : nil
        let features = RequestFeatures(
            request: ingress.routingView, key: key, endUser: user, tags: tags, timeZone: self.gateway.timeZone,
            budgetUsedPercent: budgetUsed, tokenizers: self.gateway.tokenizers
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
                servedModel: resolved.model, provider: provider.name, stream: ingress.isStreaming,
                promptText: self.gateway.config.ledger.storeText
                    ? String(decoding: ingress.body.readableBytesView.prefix(LedgerContext.textLimit), as: UTF8.self) : nil
            ),
            route: decision.route, model: resolved.metricLabel, start: start, onFinish: target.release
        )

        var logger = context.logger
        logger[metadataKey: "route"] = .string(decision.route)
        logger[metadataKey: "model"] = .string(resolved.model)
        logger[metadataKey: "key"] = .string(key.id)
        if let user { logger[metadataKey: "user"] = .string(user) }

        let plan: UpstreamPlan
        let ticket: CostTicket
        do {
            // A budget reserves `default_output_reservation` for a request without max_tokens;
            // the provider must not then write more than was reserved.
            var caps = decision.caps
            if caps.maxTokens == nil, ingress.routingView.outputTokenLimit == nil, scopes.contains(where: { $0.limits.dailyBudget != nil }) {
                caps.maxTokens = costs.limits.defaultOutputReservation
            }
            plan = try UpstreamPlan.make(
                for: ingress, resolved: resolved, provider: provider, caps: caps,
                translation: self.gateway.config.translation, logger: logger
            )
            let price = try costs.price(for: resolved.model)
            ticket = try await costs.admit(
                requestID: context.requestID, scopes: scopes, budgetDays: budgetDays, price: price, inputTokens: features.promptTokens,
                maxOutputTokens: plan.maxOutputTokens, logger: logger
            )
            observation.admitted(ticket)
        } catch {
            observation.finish(failing: error)
            // A refusal is still an answer about this route and model, and it cost nothing.
            var refusal = error
            var headers = HTTPFields()
            headers[.tollgateRoute] = decision.route
            headers[.tollgateModel] = resolved.model
            headers[.tollgateCache] = "miss"
            headers[.tollgateFallback] = "none"
            headers[.tollgateCostUSD] = USD.zero.description
            refusal.headers += headers.map { ($0.name.canonicalName, $0.value) }
            throw refusal
        }

        let exchange = UpstreamExchange(
            gateway: self.gateway, provider: provider, model: resolved, logger: logger, routeTimeouts: decision.timeouts
        )
        let upstream: UpstreamResponse
        do {
            upstream = try await exchange.send(plan.endpoint, body: plan.body, extraHeaders: plan.extraHeaders)
        } catch {
            observation.finish(failing: error)
            throw error
        }
        observation.upstreamResponded(status: upstream.status)
        var headers = Self.responseHeaders(route: decision.route, resolved: resolved, upstream: upstream)
        ticket.addRateLimitHeaders(to: &headers)

        guard (200..<300).contains(upstream.status) else {
            var error = await exchange.mapErrorResponse(upstream)
            observation.finish(failing: error)
            // The provider answered nothing billable: the cost is zero, and says so.
            headers[.tollgateCostUSD] = observation.cost.description
            error.headers += headers.map { ($0.name.canonicalName, $0.value) }
            return error.response(format: ingress.format, requestID: context.requestID)
        }
        guard ingress.isStreaming else {
            let answer: TranslatedResponse
            do {
                answer = try plan.clientAnswer(try await exchange.collect(upstream))
            } catch {
                observation.finish(failing: error)
                throw error
            }
            observation.record(usage: answer.usage)
            observation.recordResponse(answer.body)
            headers.append(HTTPField(name: .tollgateCostUSD, value: observation.cost.description))
            headers[.contentType] = plan.isPassthrough ? upstream.header("content-type") ?? "application/json" : "application/json"
            observation.finish(status: upstream.status)
            logger.info("request completed", metadata: ["status": "\(upstream.status)", "duration_ms": "\(observation.elapsed.milliseconds)"])
            return Response(status: .init(code: upstream.status), headers: headers, body: .init(byteBuffer: answer.body))
        }

        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        // The cost of a stream is known only at its end: it follows as a trailer.
        headers[.trailerFields] = HTTPField.Name.tollgateCostUSD.canonicalName
        let relay = StreamRelayParts(
            upstream: upstream, exchange: exchange, observation: observation, metrics: self.gateway.metrics,
            providerName: provider.name, modelLabel: resolved.metricLabel, logger: logger
        )
        let body: ResponseBody = switch plan.answer {
        case .openAIPassthrough(let clientWantsUsage): relay.body(OpenAIStreamPassthrough(clientWantsUsage: clientWantsUsage))
        case .anthropicPassthrough: relay.body(AnthropicStreamPassthrough())
        case .anthropicToOpenAI(let includeUsage, let jsonResponseTool):
            relay.body(AnthropicToOpenAIStream(
                model: plan.reportedModel, includeUsage: includeUsage, jsonResponseTool: jsonResponseTool, provider: provider.name
            ))
        case .openAIToAnthropic: relay.body(OpenAIToAnthropicStream(model: plan.reportedModel, provider: provider.name))
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Appended, not set: these names are not there yet, and setting searches the fields.
    static func responseHeaders(route: String, resolved: ResolvedModel, upstream: UpstreamResponse) -> HTTPFields {
        var headers = HTTPFields()
        headers.reserveCapacity(16)
        headers.append(HTTPField(name: .tollgateRoute, value: route))
        headers.append(HTTPField(name: .tollgateModel, value: resolved.model))
        headers.append(HTTPField(name: .tollgateCache, value: "miss"))
        headers.append(HTTPField(name: .tollgateFallback, value: "none"))
        if let upstreamID = upstream.header("x-request-id") ?? upstream.header("request-id") {
            headers.append(HTTPField(name: .upstreamRequestID, value: upstreamID))
        }
        return headers
    }
}

/// Everything a `StreamRelay` needs except its transcoder, which the plan picks.
private struct StreamRelayParts {
    let upstream: UpstreamResponse
    let exchange: UpstreamExchange
    let observation: RequestObservation
    let metrics: GatewayMetrics
    let providerName: String
    let modelLabel: String
    let logger: Logger

    func body<Transcoder: ResponseStreamTranscoder>(_ transcoder: Transcoder) -> ResponseBody {
        StreamRelay(
            upstream: self.upstream, transcoder: transcoder, exchange: self.exchange, observation: self.observation,
            metrics: self.metrics, providerName: self.providerName, modelLabel: self.modelLabel, logger: self.logger
        ).body
    }
}
