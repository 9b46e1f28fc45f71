import TollgateCore

/// Where one attempt goes: the model, the provider and the deployment it counts against.
struct ChosenTarget: Sendable {
    var resolved: ResolvedModel
    var provider: Provider
    /// The deployment's id: what its circuit breaker and in-flight count are keyed by.
    var deploymentID: String
    /// Ends the deployment's in-flight count (least-in-flight balancing), when one was chosen.
    var release: (@Sendable () -> Void)?
}

/// Turns a fallback attempt into a provider call: a deployment chosen by the balancer when
/// the route lists several (skipping ones that failed already and ones whose circuit is
/// open), else the provider `tollgate.yaml` maps the model to.
struct AttemptTargets: Sendable {
    let providers: ProviderRegistry
    let configured: [String: Provider]
    let balancer: DeploymentBalancer
    let breakers: CircuitBreakers

    /// The target of `attempt`, or the failure that says why none can be called.
    func choose(_ attempt: FallbackPlanner.Attempt) throws(AttemptFailure) -> ChosenTarget {
        guard let group = attempt.deployments else {
            guard let resolved = self.providers.resolve(model: attempt.model), resolved.kind == .chat else {
                throw AttemptFailure(.unavailable, error: .modelNotFound(attempt.model))
            }
            let id = resolved.providerName + "/" + resolved.model
            guard self.breakers.allowsRequest(to: id) else { throw Self.circuitOpen(id, model: attempt.model) }
            return ChosenTarget(resolved: resolved, provider: try self.provider(for: resolved), deploymentID: id, release: nil)
        }
        var candidates = group.deployments.filter { !attempt.excluded.contains($0.id) }
        if let pinned = attempt.pinned, let deployment = candidates.first(where: { $0.id == pinned }) { candidates = [deployment] }
        let open = candidates.filter { !self.balancer.isHealthy($0) || !self.breakers.allowsRequest(to: $0.id) }.map(\.id)
        candidates.removeAll { open.contains($0.id) }
        guard let deployment = self.balancer.choose(from: candidates, strategy: group.strategy) else {
            throw Self.circuitOpen(group.deployments.map(\.id).joined(separator: ", "), model: group.model)
        }
        guard var resolved = self.providers.resolve(model: deployment.model), resolved.kind == .chat else {
            throw AttemptFailure(.unavailable, error: .modelNotFound(deployment.model))
        }
        if let provider = deployment.provider, provider != resolved.providerName {
            // Another account or platform serving the same model: no mapping rename applies.
            resolved.providerName = provider
            resolved.upstreamModel = deployment.model
        }
        // Checked before counting the request in flight, so a refusal leaves no count behind.
        let provider = try self.provider(for: resolved)
        self.balancer.begin(deployment)
        let balancer = self.balancer
        return ChosenTarget(resolved: resolved, provider: provider, deploymentID: deployment.id, release: { balancer.end(deployment) })
    }

    /// The provider kind a model would be called with (for reservations), nil when unmapped.
    func providerKind(of model: String) -> ProviderConfig.Kind? {
        self.providers.resolve(model: model).flatMap { self.configured[$0.providerName]?.config.kind }
    }

    /// The provider serving `resolved`, or the 503 that explains why it cannot.
    private func provider(for resolved: ResolvedModel) throws(AttemptFailure) -> Provider {
        guard let provider = self.configured[resolved.providerName] else {
            throw AttemptFailure(.unavailable, error: .providerUnavailable(provider: resolved.providerName, reason: "it is not configured"))
        }
        if let reason = provider.unavailableReason {
            throw AttemptFailure(.unavailable, error: .providerUnavailable(provider: provider.name, reason: reason))
        }
        return provider
    }

    private static func circuitOpen(_ deployments: String, model: String) -> AttemptFailure {
        AttemptFailure(.unavailable, error: .providerUnavailable(
            provider: deployments, reason: "every deployment of '\(model)' is failing (circuit open) or already failed this request"
        ))
    }
}

extension Gateway {
    var attemptTargets: AttemptTargets {
        AttemptTargets(providers: self.providers, configured: self.providers.providers, balancer: self.routing.balancer, breakers: self.breakers)
    }
}
