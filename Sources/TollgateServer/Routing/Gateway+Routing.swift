import TollgateCore

/// Where a routed request goes: the model and provider, and what to do when it is done.
struct RoutedTarget: Sendable {
    var resolved: ResolvedModel
    var provider: Provider
    /// Ends the deployment's in-flight count (least-in-flight balancing), when one was chosen.
    var release: (@Sendable () -> Void)?
}

extension Gateway {
    /// Turns a routing decision into a provider call: a deployment chosen by the balancer when
    /// the route lists several, else the provider `tollgate.yaml` maps the model to. Throws the
    /// 503 of a provider that cannot be called.
    func target(for decision: RouteDecision) throws(GatewayError) -> RoutedTarget {
        guard let group = decision.deployments else {
            guard let resolved = self.providers.resolve(model: decision.model), resolved.kind == .chat else {
                throw GatewayError.modelNotFound(decision.model)
            }
            return RoutedTarget(resolved: resolved, provider: try self.provider(for: resolved), release: nil)
        }
        let balancer = self.routing.balancer
        guard let deployment = balancer.choose(from: group) else {
            throw GatewayError.providerUnavailable(
                provider: group.deployments.map(\.id).joined(separator: ", "),
                reason: "every deployment of '\(group.model)' is marked unhealthy"
            )
        }
        guard var resolved = self.providers.resolve(model: deployment.model), resolved.kind == .chat else {
            throw GatewayError.modelNotFound(deployment.model)
        }
        if let provider = deployment.provider, provider != resolved.providerName {
            // Another account or platform serving the same model: no mapping rename applies.
            resolved.providerName = provider
            resolved.upstreamModel = deployment.model
        }
        // Checked before counting the request in flight, so a refusal leaves no count behind.
        let provider = try self.provider(for: resolved)
        balancer.begin(deployment)
        return RoutedTarget(resolved: resolved, provider: provider, release: { balancer.end(deployment) })
    }
}
