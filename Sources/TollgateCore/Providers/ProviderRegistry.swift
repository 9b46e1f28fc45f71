/// A provider account as the gateway uses it: its config plus the credential read from the
/// environment at start-up.
public struct Provider: Sendable {
    public var name: String
    public var config: ProviderConfig
    public var credential: ProviderCredential?

    /// Why requests to this provider cannot be sent, or nil when they can.
    public var unavailableReason: String? {
        guard self.credential == nil else { return nil }
        if let variable = self.config.apiKeyEnvironmentVariable {
            return "its API key is not configured (set \(variable))"
        }
        return nil
    }
}

/// A provider API key. Its descriptions are redacted so it cannot reach a log line by accident.
public struct ProviderCredential: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let secret: String

    public init(_ secret: String) { self.secret = secret }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// A client's model name resolved to the provider that serves it.
public struct ResolvedModel: Sendable, Equatable {
    /// The name the client asked for.
    public var model: String
    /// The name sent upstream.
    public var upstreamModel: String
    public var providerName: String
    public var kind: ModelMapping.Kind
    /// The configured name or pattern that matched: a bounded label for metrics.
    public var metricLabel: String
}

/// Resolves model names to providers, following `models:` in `tollgate.yaml` in order.
public struct ProviderRegistry: Sendable {
    public let providers: [String: Provider]
    private let mappings: [ModelMapping]

    public init(config: GatewayConfig, environment: [String: String]) {
        var providers: [String: Provider] = [:]
        for (name, providerConfig) in config.providers {
            let credential = providerConfig.apiKeyEnvironmentVariable
                .flatMap { environment[$0] }
                .flatMap { $0.isEmpty ? nil : ProviderCredential($0) }
            providers[name] = Provider(name: name, config: providerConfig, credential: credential)
        }
        self.providers = providers
        self.mappings = config.models
    }

    public func resolve(model: String) -> ResolvedModel? {
        guard let mapping = self.mappings.first(where: { $0.matches(model) }) else { return nil }
        return ResolvedModel(
            model: model,
            upstreamModel: mapping.upstreamModel ?? model,
            providerName: mapping.provider,
            kind: mapping.kind,
            metricLabel: mapping.name ?? mapping.pattern?.description ?? model
        )
    }

    /// Models listed by exact name, in config order: what `/v1/models` can enumerate.
    public var namedModels: [(name: String, provider: String, kind: ModelMapping.Kind)] {
        self.mappings.compactMap { mapping in mapping.name.map { ($0, mapping.provider, mapping.kind) } }
    }

    /// Whether any mapping to `provider` is a pattern (so its concrete names come from the provider).
    public func hasPatterns(for provider: String) -> Bool {
        self.mappings.contains { $0.provider == provider && $0.pattern != nil }
    }

    /// Provider names sorted, each with the reason it is unavailable (nil when ready).
    public var availability: [(name: String, unavailableReason: String?)] {
        self.providers.keys.sorted().map { ($0, self.providers[$0]!.unavailableReason) }
    }
}
