import Synchronization

/// The circuit breakers of every deployment this process calls, keyed by deployment id
/// (`provider/model`, or a route's deployment `name`). One lock around a few dictionary
/// operations per attempt; no I/O. Replicas share state through `CircuitSync`: this
/// process's own opens and closes wait in an outbox (`takeLocalChanges`), and what the
/// others opened comes in through `adopt`.
public final class CircuitBreakers: Sendable {
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    private let outbox = Mutex<[String: CircuitBreaker.State]>([:])
    public let policy: CircuitBreaker.Policy
    private let now: @Sendable () -> ContinuousClock.Instant
    private let onTransition: @Sendable (_ deployment: String, _ state: CircuitBreaker.State) -> Void

    /// - Parameters:
    ///   - now: the clock (tests pass a manual one).
    ///   - onTransition: told of every state change, outside the lock (metrics, logs).
    public init(
        policy: CircuitBreaker.Policy = .init(), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        onTransition: @escaping @Sendable (String, CircuitBreaker.State) -> Void = { _, _ in }
    ) {
        self.policy = policy
        self.now = now
        self.onTransition = onTransition
    }

    /// Whether a request may go to `deployment` now (a half-open circuit admits its probes).
    public func allowsRequest(to deployment: String) -> Bool {
        let now = self.now()
        let (allowed, transition) = self.breakers.withLock { breakers in
            guard breakers[deployment] != nil else { return (true, CircuitBreaker.Transition.none) }
            return breakers[deployment]!.allowsRequest(at: now)
        }
        if transition == .halfOpened { self.onTransition(deployment, .halfOpen) }
        return allowed
    }

    /// Counts the outcome of a request to `deployment`.
    public func record(_ deployment: String, success: Bool) {
        let now = self.now()
        let policy = self.policy
        let transition = self.breakers.withLock { breakers -> CircuitBreaker.Transition in
            return breakers[deployment, default: CircuitBreaker(policy: policy)].record(success: success, at: now)
        }
        switch transition {
        case .none, .halfOpened: break
        case .opened: self.outbox.withLock { $0[deployment] = .open }
        case .closed: self.outbox.withLock { $0[deployment] = .closed }
        }
        self.report(transition, of: deployment)
    }

    /// This process's opens and closes since the last call (the latest per deployment).
    public func takeLocalChanges() -> [String: CircuitBreaker.State] {
        self.outbox.withLock { outbox in
            defer { outbox.removeAll() }
            return outbox
        }
    }

    /// Puts back changes that could not be shared, unless newer ones replaced them.
    public func restoreLocalChanges(_ changes: [String: CircuitBreaker.State]) {
        self.outbox.withLock { outbox in outbox.merge(changes) { newer, _ in newer } }
    }

    /// What other replicas hold open, with the time each stays open: those circuits open
    /// here too, and circuits opened only because another replica had opened them close
    /// once it no longer lists them.
    public func adopt(openElsewhere: [String: Duration]) {
        let now = self.now()
        let policy = self.policy
        let transitions = self.breakers.withLock { breakers -> [(String, CircuitBreaker.Transition)] in
            var transitions: [(String, CircuitBreaker.Transition)] = []
            for (deployment, remaining) in openElsewhere {
                let transition = breakers[deployment, default: CircuitBreaker(policy: policy)].adoptOpen(until: now + remaining, at: now)
                transitions.append((deployment, transition))
            }
            for deployment in breakers.keys where openElsewhere[deployment] == nil {
                transitions.append((deployment, breakers[deployment]!.adoptClosed()))
            }
            return transitions
        }
        for (deployment, transition) in transitions { self.report(transition, of: deployment) }
    }

    private func report(_ transition: CircuitBreaker.Transition, of deployment: String) {
        switch transition {
        case .none: break
        case .opened: self.onTransition(deployment, .open)
        case .halfOpened: self.onTransition(deployment, .halfOpen)
        case .closed: self.onTransition(deployment, .closed)
        }
    }

    public func state(of deployment: String) -> CircuitBreaker.State {
        self.breakers.withLock { $0[deployment]?.state ?? .closed }
    }

    /// Deployments whose circuit is not closed, with their state.
    public var notClosed: [String: CircuitBreaker.State] {
        self.breakers.withLock { $0.compactMapValues { $0.state == .closed ? nil : $0.state } }
    }
}
