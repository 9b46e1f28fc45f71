/// What the routing rules decided for one request: which route matched, which model answers,
/// and the policies (fallbacks, timeouts, cache, caps) the server applies to the call.
public struct RouteDecision: Sendable, Equatable {
    /// The matched route's name (the `X-Tollgate-Route` header).
    public var route: String
    /// The model the route chose; the requested model itself when the route passes it through.
    public var model: String
    /// Deployments to balance over (all serve `model`); nil lets `tollgate.yaml`'s model
    /// mapping pick the provider.
    public var deployments: DeploymentGroup?
    /// The model or alias the client asked for.
    public var requestedModel: String
    /// True when `requestedModel` was an alias the rules declare (`auto`...).
    public var requestedAlias: Bool
    /// True when `model` differs from `requestedModel`. For a concrete requested model this
    /// only happens on a route marked `override_concrete_model: true`.
    public var modelChanged: Bool
    public var fallbacks: FallbackChain
    public var timeouts: RouteTimeouts
    public var cache: RouteCachePolicy
    public var caps: RouteCaps
}

/// Where a route sends a request.
public enum RouteTarget: Sendable, Equatable {
    /// Keep the model the client asked for (concrete model requests only).
    case passthrough
    /// One model; `tollgate.yaml` maps it to a provider.
    case model(String)
    /// Several deployments of one model, chosen per request by `DeploymentBalancer`.
    case deployments(DeploymentGroup)

    /// The model this target names, nil for `passthrough`.
    public var model: String? {
        switch self {
        case .passthrough: nil
        case .model(let model): model
        case .deployments(let group): group.model
        }
    }
}

/// How `DeploymentBalancer` picks among a route's deployments.
public enum BalancingStrategy: String, Sendable, Equatable, CaseIterable {
    /// Smooth weighted round robin: deterministic, spreads picks in proportion to weights.
    case weighted
    /// The healthy deployment with the fewest requests in flight per unit of weight.
    case leastInFlight = "least_in_flight"
}

/// One place a model is served: a provider from `tollgate.yaml` (nil: the model mapping's
/// provider) and a relative weight.
public struct Deployment: Sendable, Hashable {
    /// Identity for health and in-flight counts, shared by every route that lists it:
    /// the configured `name`, else `provider/model`.
    public var id: String
    public var model: String
    public var provider: String?
    public var weight: Int

    public init(model: String, provider: String? = nil, weight: Int = 1, name: String? = nil) {
        self.model = model
        self.provider = provider
        self.weight = weight
        self.id = name ?? "\(provider ?? "default")/\(model)"
    }
}

/// A route's deployments of one model and how to choose among them.
public struct DeploymentGroup: Sendable, Equatable {
    public var model: String
    public var deployments: [Deployment]
    public var strategy: BalancingStrategy
    /// Stable identity of the set (the deployment ids), used for round-robin state.
    public var id: String

    public init(deployments: [Deployment], strategy: BalancingStrategy) {
        precondition(!deployments.isEmpty, "a deployment group needs at least one deployment")
        self.model = deployments[0].model
        self.deployments = deployments
        self.strategy = strategy
        self.id = deployments.map(\.id).joined(separator: ",")
    }
}

/// What to try when the chosen model fails: retries, these models in order, then a template
/// answer (a name under `prompts/`). Executed by `FallbackPlanner`, not by the rules.
public struct FallbackChain: Sendable, Equatable {
    public var models: [String]
    public var template: String?
    /// Retries of the same deployment on retryable failures (the route's `retries`, default 1).
    public var retries: Int

    public init(models: [String] = [], template: String? = nil, retries: Int = 1) {
        self.models = models
        self.template = template
        self.retries = retries
    }

    public var isEmpty: Bool { self.models.isEmpty && self.template == nil }
}

/// Per-route upstream timeouts; nil keeps the provider's own setting.
public struct RouteTimeouts: Sendable, Equatable {
    public var firstByte: Duration?
    public var idle: Duration?
    public var total: Duration?

    public init(firstByte: Duration? = nil, idle: Duration? = nil, total: Duration? = nil) {
        self.firstByte = firstByte
        self.idle = idle
        self.total = total
    }
}

/// Per-route cache policy (`cache:`); nil fields keep the gateway-wide setting.
public struct RouteCachePolicy: Sendable, Equatable {
    /// Whose entries a request may read and fill.
    public enum Scope: String, Sendable, Equatable, CaseIterable {
        /// The key's own entries.
        case key
        /// The end user's, within the key's team (or the key, without a team).
        case user
        /// The key's team's (or the key's, without a team): the default.
        case team
        /// Every tenant's: only for answers that are the same for everyone.
        case global
    }

    /// Exact repeats answered from the cache (`cache.mode` must allow it).
    public var exact: Bool?
    /// Similar questions answered from the semantic cache (`cache.mode: semantic` must allow
    /// it; unset: yes when it does).
    public var semantic: Bool?
    /// The semantic guard's probability needed to serve, instead of `cache.semantic`'s.
    public var threshold: Double?
    public var scope: Scope?
    /// How long an answer stored for this route is served.
    public var ttl: Duration?
    /// Requests sampling hotter than this bypass the cache (an unset temperature counts as 1).
    public var maxTemperature: Double?

    public init(
        exact: Bool? = nil, semantic: Bool? = nil, threshold: Double? = nil, scope: Scope? = nil, ttl: Duration? = nil,
        maxTemperature: Double? = nil
    ) {
        self.exact = exact
        self.semantic = semantic
        self.threshold = threshold
        self.scope = scope
        self.ttl = ttl
        self.maxTemperature = maxTemperature
    }

    public static let defaultMaxTemperature = 1.0
}

/// Per-route limits applied to the request before it goes upstream.
public struct RouteCaps: Sendable, Equatable {
    /// Upper bound on the output tokens: a larger (or absent) `max_tokens` is lowered to this.
    public var maxTokens: Int?

    public init(maxTokens: Int? = nil) { self.maxTokens = maxTokens }

    /// The output limit to send upstream given what the client asked for.
    public func outputTokenLimit(requested: Int?) -> Int? {
        guard let maxTokens else { return requested }
        return min(requested ?? maxTokens, maxTokens)
    }
}
