import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream
import Tracing

/// The stages every proxied chat request passes, whichever format it came in, in order:
/// route (`RouteSelection`), the caches (`CacheLookup`, exact then semantic: a hit answers at
/// once, counted for rate limits at no cost), admit the whole chain (`ChainAdmission`), walk
/// the chain (`AttemptLoop`: retries, other deployments, fallback models), and answer in the
/// client's own format (`ChainAnswer`: the attempt's answer or stream, a template, or the last
/// error). `RequestObservation` accounts for the request from the moment it is routed.
struct ProxyPipeline {
    let gateway: Gateway

    func run(
        _ ingress: IngressRequest, key: GatewayKey, headers requestHeaders: HTTPFields, context: GatewayRequestContext,
        start: ContinuousClock.Instant
    ) async throws -> Response {
        let gateway = self.gateway
        let rules = gateway.routing.rules
        let trace = gateway.tracing?.startRequest(
            ingress.format == .openAI ? "POST /v1/chat/completions" : "POST /v1/messages", headers: requestHeaders, requestID: context.requestID
        )
        let routed: RoutedRequest
        do {
            let selection = RouteSelection(
                rules: rules, providers: gateway.providers, costs: gateway.costs, tokenizers: gateway.tokenizers, timeZone: gateway.timeZone,
                recordsFeatures: gateway.ledger != nil
            )
            let span = trace?.child("routing")
            defer { span?.end() }
            routed = try selection.route(ingress, key: key, headers: requestHeaders)
            span?.attributes["tollgate.route"] = routed.decision.route
            span?.attributes["tollgate.routed_model"] = routed.decision.model
        } catch {
            trace?.fail(error)
            throw error
        }
        trace?.describe(ingress, routed: routed, key: key)
        let decision = routed.decision
        let targets = gateway.attemptTargets
        let firstTarget = gateway.providers.resolve(model: decision.model)
        let observation = RequestObservation(
            metrics: gateway.metrics, costs: gateway.costs, ledger: gateway.ledger,
            context: LedgerContext(
                requestID: context.requestID, key: key, user: routed.user ?? key.user, requestedModel: ingress.model,
                servedModel: decision.model, provider: decision.deployments?.deployments.first?.provider ?? firstTarget?.providerName ?? "",
                stream: ingress.isStreaming,
                promptText: gateway.config.ledger.storeText
                    ? String(decoding: ingress.body.readableBytesView.prefix(LedgerContext.textLimit), as: UTF8.self) : nil,
                tagsJSON: routed.features.tags.ledgerJSON, featuresJSON: routed.record,
                requestedPrice: rules.savingsBaseline(for: ingress.model).flatMap(gateway.costs.prices.price(for:))
            ),
            route: decision.route, model: firstTarget?.metricLabel ?? decision.model, start: start, trace: trace
        )
        var logger = context.logger
        logger[metadataKey: "route"] = .string(decision.route)
        logger[metadataKey: "model"] = .string(decision.model)
        logger[metadataKey: "key"] = .string(key.id)
        if let user = routed.user { logger[metadataKey: "user"] = .string(user) }

        var answer = ChainAnswer(
            ingress: ingress, route: decision.route, requestID: context.requestID, observation: observation,
            metrics: gateway.metrics, fallbackMetrics: gateway.fallbackMetrics, logger: logger
        )
        if let cache = gateway.cache {
            let lookup = CacheLookup(cache: cache, semantic: gateway.semanticCache)
            if var plan = lookup.plan(ingress, decision: decision, key: key, user: routed.user ?? key.user, headers: requestHeaders) {
                let span = trace?.child("cache lookup")
                let hit = await lookup.lookup(&plan)
                span?.attributes["tollgate.cache"] = hit?.status.rawValue ?? "miss"
                span?.end()
                if let hit {
                    gateway.fallbackMetrics.cache(route: decision.route, result: hit.status.rawValue)
                    // A hit counts as a request for rate limits and costs nothing against budgets.
                    do {
                        let span = trace?.child("admission")
                        defer { span?.end() }
                        let ticket = try await gateway.costs.admit(
                            requestID: context.requestID, scopes: routed.scopes, budgetDays: routed.budgetDays, price: .free,
                            inputTokens: 0, maxOutputTokens: 0, logger: logger
                        )
                        observation.admitted(ticket)
                        return answer.cached(hit, model: decision.model, ticket: ticket)
                    } catch {
                        return answer.refusal(error, model: decision.model)
                    }
                }
                if plan.read { gateway.fallbackMetrics.cache(route: decision.route, result: "miss") }
                if plan.store {
                    answer.cacheFill = CacheFill(
                        cache: cache, semantic: gateway.semanticCache, plan: plan, format: ingress.format == .openAI ? .openAI : .anthropic
                    )
                }
            }
        }
        let prices = gateway.costs.prices
        var planner = FallbackPlanner(decision: decision, contextWindow: { prices.limits(for: $0).contextWindow })
        let admission = ChainAdmission(costs: gateway.costs, targets: targets, defaultMaxTokens: gateway.config.translation.defaultMaxTokens)
        let caps = admission.caps(for: routed, ingress: ingress)
        let ticket: CostTicket
        do {
            let span = trace?.child("admission")
            defer { span?.end() }
            ticket = try await admission.admit(routed, planner: planner, caps: caps, ingress: ingress, requestID: context.requestID, logger: logger)
            observation.admitted(ticket)
        } catch {
            return answer.refusal(error, model: decision.model)
        }

        let loop = AttemptLoop(
            targets: targets, caller: gateway.upstreamCaller, translation: gateway.config.translation, metrics: gateway.fallbackMetrics,
            price: { prices.price(for: $0) }, limits: { prices.limits(for: $0) }, tokenizers: gateway.tokenizers
        )
        let total = decision.timeouts.total ?? gateway.config.providers.values.map(\.timeouts.total).max() ?? .seconds(600)
        let outcome = await loop.run(
            AttemptLoop.Request(
                ingress: ingress, route: decision.route, timeouts: decision.timeouts, caps: caps, deadline: start.advanced(by: total),
                promptTokens: routed.features.promptTokens, observation: observation, logger: logger, trace: trace,
                trimNote: { [templates = rules.templates, requestID = context.requestID] dropped in
                    templates.trimmedContextNote(TemplateContext(model: ingress.model, route: decision.route, requestID: requestID, droppedMessages: dropped))
                }
            ),
            planner: &planner
        )
        switch outcome {
        case .answer(let attemptAnswer, let served):
            return answer.respond(attemptAnswer, served: served, ticket: ticket)
        case .template(let name, let last):
            let context = TemplateContext(
                model: ingress.model, route: decision.route, requestID: context.requestID,
                retryAfterSeconds: last?.retryAfter.map { Int(($0 / .seconds(1)).rounded(.up)) },
                lastUserMessage: ingress.routingView.messages.last(where: { $0.role == .user })?.content?.text,
                reason: last?.error.message
            )
            return answer.template(rules.templates.render(name, context: context) ?? "", ticket: ticket)
        case .failed(let failure):
            return answer.failure(failure, ticket: ticket)
        }
    }
}
