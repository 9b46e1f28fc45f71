import Foundation
import HTTPTypes
import TollgateCore

/// The cache stage of a chat request, after routing and before limits are charged: decides
/// whether the request may read and fill the caches (mode, route, client controls,
/// temperature, `n`), under which tenant's key, and looks it up: the exact cache first, then
/// (mode `semantic`, on routes that allow it) the semantic cache within the request's
/// partition.
///
/// Client controls: `X-Tollgate-Cache: off` (neither read nor stored) or `refresh` (not
/// read, stored); `Cache-Control: no-cache` (not read, stored) and `no-store` (not stored).
struct CacheLookup {
    let cache: ResponseCache
    let semantic: SemanticCache?

    /// What the request may do with the caches.
    struct Plan: Sendable {
        var key: CacheKey
        /// The exact cache is read and filled (the route may turn it off and keep semantic).
        var exact: Bool
        var read: Bool
        var store: Bool
        var ttl: Duration
        var semantic: SemanticPlan?
    }

    /// The semantic cache's part of a plan.
    struct SemanticPlan: Sendable {
        /// Everything but the question: only entries of the same partition are compared.
        var partition: CacheKey
        var question: String
        /// The route's guard threshold, when it sets one.
        var threshold: Double?
        /// The question embedded by the lookup, so that filling does not embed it again.
        var embedded: SemanticCache.Embedded?
    }

    enum Hit {
        case exact(CachedAnswer)
        case semantic(CachedAnswer, similarity: Float)

        var answer: CachedAnswer {
            switch self {
            case .exact(let answer), .semantic(let answer, _): answer
            }
        }

        var status: LedgerEntry.CacheStatus {
            switch self {
            case .exact: .exact
            case .semantic: .semantic
            }
        }
    }

    /// The request's plan, or nil when it bypasses the cache entirely.
    func plan(_ ingress: IngressRequest, decision: RouteDecision, key: GatewayKey, user: String?, headers: HTTPFields) -> Plan? {
        let policy = decision.cache
        let exact = policy.exact ?? true
        let semantic = self.semantic != nil && (policy.semantic ?? true)
        guard self.cache.config.mode != .off, exact || semantic else { return nil }
        var read = true
        var store = true
        switch headers[.tollgateCache]?.lowercased() {
        case "off"?: return nil
        case "refresh"?: read = false
        default: break
        }
        for directive in (headers[values: .cacheControl].flatMap { $0.split(separator: ",") }) {
            switch directive.trimmingCharacters(in: .whitespaces).lowercased() {
            case "no-cache": read = false
            case "no-store": store = false
            default: break
            }
        }
        guard read || store else { return nil }
        // Hot sampling asks for variety; several choices would replay as one.
        let temperature = ingress.routingView.temperature ?? 1.0
        guard temperature <= policy.maxTemperature ?? RouteCachePolicy.defaultMaxTemperature, (ingress.routingView.n ?? 1) == 1 else { return nil }
        let format: CachedAnswer.Format = ingress.format == .openAI ? .openAI : .anthropic
        let scope = Self.scope(policy.scope ?? .team, key: key, user: user)
        guard let cacheKey = CacheKey(
            body: ingress.body, format: format, servedModel: decision.model, outputCap: decision.caps.maxTokens, scope: scope
        ) else { return nil }
        var plan = Plan(key: cacheKey, exact: exact, read: read, store: store, ttl: policy.ttl ?? self.cache.config.ttl)
        if semantic, let (partition, question) = CacheKey.semantic(
            body: ingress.body, format: format, servedModel: decision.model, outputCap: decision.caps.maxTokens, scope: scope
        ) {
            plan.semantic = SemanticPlan(partition: partition, question: question, threshold: policy.threshold)
        }
        guard plan.exact || plan.semantic != nil else { return nil }
        return plan
    }

    /// The tenant whose entries a request reads: the team (a key without one: the key), the
    /// key, the end user within the team or key (requests naming no user share one set), or
    /// everyone.
    static func scope(_ scope: RouteCachePolicy.Scope, key: GatewayKey, user: String?) -> String {
        let tenant = key.team.map { "team:" + $0 } ?? "key:" + key.id
        switch scope {
        case .team: return tenant
        case .key: return "key:" + key.id
        case .user: return tenant + "/user:" + (user ?? "")
        case .global: return "global"
        }
    }

    /// The exact hit, else the semantic one. The question is embedded here even when the
    /// request does not read (`no-cache`, `refresh`), so that the answer is stored as soon as
    /// it is complete; the fill finds it in `plan`.
    func lookup(_ plan: inout Plan) async -> Hit? {
        if plan.read, plan.exact, let answer = await self.cache.lookup(plan.key) { return .exact(answer) }
        guard let semantic = self.semantic, var question = plan.semantic else { return nil }
        question.embedded = await semantic.embed(question.question)
        plan.semantic = question
        guard plan.read, let embedded = question.embedded,
            let hit = await semantic.lookup(partition: question.partition, question: embedded, threshold: question.threshold)
        else { return nil }
        return .semantic(hit.answer, similarity: hit.similarity)
    }
}
