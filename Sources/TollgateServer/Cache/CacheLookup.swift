import Foundation
import HTTPTypes
import TollgateCore

/// The cache stage of a chat request, after routing and before limits are charged: decides
/// whether the request may read and fill the exact cache (mode, route, client controls,
/// temperature, `n`), under which tenant's key, and looks it up.
///
/// Client controls: `X-Tollgate-Cache: off` (neither read nor stored) or `refresh` (not
/// read, stored); `Cache-Control: no-cache` (not read, stored) and `no-store` (not stored).
struct CacheLookup {
    let cache: ResponseCache

    /// What the request may do with the cache.
    struct Plan: Sendable {
        var key: CacheKey
        var read: Bool
        var store: Bool
        var ttl: Duration
    }

    /// The request's plan, or nil when it bypasses the cache entirely.
    func plan(_ ingress: IngressRequest, decision: RouteDecision, key: GatewayKey, user: String?, headers: HTTPFields) -> Plan? {
        let policy = decision.cache
        guard self.cache.config.mode == .exact, policy.exact ?? true else { return nil }
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
        guard let cacheKey = CacheKey(
            body: ingress.body, format: format, servedModel: decision.model, outputCap: decision.caps.maxTokens,
            scope: Self.scope(policy.scope ?? .team, key: key, user: user)
        ) else { return nil }
        return Plan(key: cacheKey, read: read, store: store, ttl: policy.ttl ?? self.cache.config.ttl)
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

    func lookup(_ plan: Plan) async -> CachedAnswer? {
        guard plan.read else { return nil }
        return await self.cache.lookup(plan.key)
    }
}
