import Synchronization

/// Picks a deployment for each request among a route's deployments of one model, and keeps
/// the shared state that needs: in-flight counts, health marks, round-robin position.
/// One per process; state is keyed by `Deployment.id`, so routes listing the same
/// deployment share its health and load. No I/O; a lock held for a few list operations.
public final class DeploymentBalancer: Sendable {
    private struct State {
        var inFlight: [String: Int] = [:]
        var unhealthyUntil: [String: ContinuousClock.Instant] = [:]
        /// Smooth weighted round robin: current weights per group, by position.
        var currentWeights: [String: [Int]] = [:]
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameter now: the clock health marks expire by; tests pass a manual one.
    public init(now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.now = now
    }

    /// Chooses a healthy deployment, or nil when every one is marked unhealthy.
    public func choose(from group: DeploymentGroup) -> Deployment? {
        self.choose(from: group.deployments, strategy: group.strategy, groupID: group.id)
    }

    /// Chooses a healthy deployment of `deployments` by `strategy`; nil when all are unhealthy.
    /// - weighted: smooth weighted round robin over the healthy ones (nginx's algorithm):
    ///   each pick adds every weight to its deployment's running total, takes the largest
    ///   and subtracts the sum of weights from it. Deterministic; exact proportions over a
    ///   cycle of `sum(weights)` picks, with picks of one deployment spread out.
    /// - least_in_flight: the fewest in-flight requests per unit of weight; ties go to the
    ///   earlier deployment in the list.
    public func choose(from deployments: [Deployment], strategy: BalancingStrategy) -> Deployment? {
        self.choose(from: deployments, strategy: strategy, groupID: deployments.map(\.id).joined(separator: ","))
    }

    private func choose(from deployments: [Deployment], strategy: BalancingStrategy, groupID: String) -> Deployment? {
        let now = self.now()
        return self.state.withLock { state -> Deployment? in
            func healthy(_ deployment: Deployment) -> Bool {
                guard let until = state.unhealthyUntil[deployment.id] else { return true }
                if until <= now {
                    state.unhealthyUntil[deployment.id] = nil
                    return true
                }
                return false
            }
            switch strategy {
            case .weighted:
                var current = state.currentWeights[groupID] ?? [Int](repeating: 0, count: deployments.count)
                if current.count != deployments.count { current = [Int](repeating: 0, count: deployments.count) }
                var best: Int?
                var total = 0
                for (index, deployment) in deployments.enumerated() where healthy(deployment) {
                    current[index] += deployment.weight
                    total += deployment.weight
                    if best == nil || current[index] > current[best!] { best = index }
                }
                guard let best else { return nil }
                current[best] -= total
                state.currentWeights[groupID] = current
                return deployments[best]
            case .leastInFlight:
                var best: (deployment: Deployment, load: Double)?
                for deployment in deployments where healthy(deployment) {
                    let load = Double(state.inFlight[deployment.id, default: 0]) / Double(deployment.weight)
                    if best == nil || load < best!.load { best = (deployment, load) }
                }
                return best?.deployment
            }
        }
    }

    // MARK: - In-flight counts

    /// Counts a request sent to `deployment`; pair with `end(_:)` when it finishes.
    public func begin(_ deployment: Deployment) {
        self.state.withLock { $0.inFlight[deployment.id, default: 0] += 1 }
    }

    /// Counts a request to `deployment` as finished (whatever its outcome).
    public func end(_ deployment: Deployment) {
        self.state.withLock { state in
            let remaining = state.inFlight[deployment.id, default: 0] - 1
            state.inFlight[deployment.id] = remaining > 0 ? remaining : nil
        }
    }

    public func inFlight(_ deployment: Deployment) -> Int {
        self.state.withLock { $0.inFlight[deployment.id, default: 0] }
    }

    // MARK: - Health (called by the fallback machinery)

    /// Takes `deployment` out of rotation for `duration` (after errors or timeouts).
    public func markUnhealthy(_ deployment: Deployment, for duration: Duration) {
        let until = self.now().advanced(by: duration)
        self.state.withLock { state in
            if let existing = state.unhealthyUntil[deployment.id], existing > until { return }
            state.unhealthyUntil[deployment.id] = until
        }
    }

    /// Puts `deployment` back into rotation now.
    public func markHealthy(_ deployment: Deployment) {
        self.state.withLock { _ = $0.unhealthyUntil.removeValue(forKey: deployment.id) }
    }

    public func isHealthy(_ deployment: Deployment) -> Bool {
        let now = self.now()
        return self.state.withLock { state in
            guard let until = state.unhealthyUntil[deployment.id] else { return true }
            return until <= now
        }
    }
}
