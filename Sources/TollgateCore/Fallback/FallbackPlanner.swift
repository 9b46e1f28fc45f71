/// The fallback chain of one request as a state machine, without I/O: given how each attempt
/// failed, it says what to try next. The caller performs the attempts (choosing among a
/// stage's deployments, skipping open circuits) and reports back.
///
/// The chain is the route's target, then its fallback models in order, then its template:
/// 1. the target on one deployment (the route's balancing picks it);
/// 2. retries of that deployment on retryable failures, with jittered exponential backoff
///    or the provider's `Retry-After` when it fits before the deadline;
/// 3. the target's other deployments;
/// 4. each fallback model (a context-length failure skips to one with a larger window);
/// 5. the template, when the route names one; else the last failure goes to the client.
public struct FallbackPlanner: Sendable {
    /// One model of the chain and where it is served.
    public struct Stage: Sendable, Equatable {
        public var model: String
        /// The route's deployments of the target; nil lets the model mapping pick the provider.
        public var deployments: DeploymentGroup?

        public init(model: String, deployments: DeploymentGroup? = nil) {
            self.model = model
            self.deployments = deployments
        }
    }

    /// One upstream attempt to make.
    public struct Attempt: Sendable, Equatable {
        /// 1 for the first attempt of the request.
        public var number: Int
        public var stage: Int
        public var model: String
        public var deployments: DeploymentGroup?
        /// Deployment ids of this stage not to use again (they failed already).
        public var excluded: Set<String>
        /// A retry goes back to the deployment that failed (its id).
        public var pinned: String?
        /// The step this attempt is, as `X-Tollgate-Fallback` reports it.
        public var step: LedgerEntry.Fallback
        /// Wait this long before sending (backoff).
        public var delay: Duration
    }

    public enum Next: Sendable, Equatable {
        case attempt(Attempt)
        /// Answer with this template (`prompts/NAME.mustache`).
        case template(String)
        /// Nothing left: the last failure goes to the client.
        case giveUp
    }

    public struct Backoff: Sendable, Equatable {
        public var base: Duration
        public var cap: Duration

        public init(base: Duration = .milliseconds(200), cap: Duration = .seconds(5)) {
            self.base = base
            self.cap = cap
        }

        /// The wait before retry `n` (1 for the first): `base * 2^(n-1)`, capped, times a
        /// jitter factor in [0.5, 1) so that clients failing together do not retry together.
        public func delay(retry n: Int, jitter: Double) -> Duration {
            let exponential = self.base * (1 << min(max(n - 1, 0), 20))
            return min(exponential, self.cap) * (0.5 + 0.5 * min(max(jitter, 0), 0.999))
        }
    }

    public let stages: [Stage]
    public let template: String?
    /// Retries per deployment on retryable failures.
    public let retries: Int
    public let backoff: Backoff
    private let contextWindow: @Sendable (String) -> Int?

    private var current: Attempt?
    private var attempts = 0
    private var retriesUsed = 0

    /// - Parameter contextWindow: a model's context window in tokens, when known; a
    ///   context-length failure moves only to a model known to have a larger one.
    public init(
        stages: [Stage], template: String?, retries: Int, backoff: Backoff = Backoff(),
        contextWindow: @escaping @Sendable (String) -> Int? = { _ in nil }
    ) {
        precondition(!stages.isEmpty, "a chain starts with the route's target")
        self.stages = stages
        self.template = template
        self.retries = max(0, retries)
        self.backoff = backoff
        self.contextWindow = contextWindow
    }

    /// The chain of a routing decision.
    public init(decision: RouteDecision, retries: Int? = nil, contextWindow: @escaping @Sendable (String) -> Int? = { _ in nil }) {
        let stages = [Stage(model: decision.model, deployments: decision.deployments)]
            + decision.fallbacks.models.filter { $0 != decision.model }.map { Stage(model: $0) }
        self.init(
            stages: stages, template: decision.fallbacks.template, retries: retries ?? decision.fallbacks.retries,
            contextWindow: contextWindow
        )
    }

    /// The first attempt.
    public mutating func start() -> Next {
        .attempt(self.begin(stage: 0, excluded: []))
    }

    /// What to do after the current attempt failed.
    /// - Parameters:
    ///   - deployment: the id of the deployment the attempt used (nil when none could be used).
    ///   - remaining: time left before the route's total deadline (nil: no deadline).
    ///   - jitter: a random number in [0, 1) for the backoff.
    public mutating func next(after failure: AttemptFailure, deployment: String?, remaining: Duration?, jitter: Double) -> Next {
        guard var attempt = self.current else { return .giveUp }
        if let remaining, remaining <= .zero { return self.exhausted() }
        switch failure.disposition {
        case .final:
            return .giveUp
        case .largerWindow:
            let window = self.contextWindow(attempt.model)
            let larger = self.stages.indices.first { index in
                guard index > attempt.stage, let candidate = self.contextWindow(self.stages[index].model) else { return false }
                return window.map { candidate > $0 } ?? true
            }
            guard let larger else { return .giveUp }
            return .attempt(self.begin(stage: larger, excluded: []))
        case .retry:
            if let deployment, self.retriesUsed < self.retries {
                var delay = self.backoff.delay(retry: self.retriesUsed + 1, jitter: jitter)
                if let retryAfter = failure.retryAfter { delay = retryAfter }
                if remaining.map({ delay < $0 }) ?? true {
                    self.retriesUsed += 1
                    self.attempts += 1
                    attempt.number = self.attempts
                    attempt.pinned = deployment
                    attempt.delay = delay
                    attempt.step = attempt.stage == 0 ? .retry : .smallerModel
                    self.current = attempt
                    return .attempt(attempt)
                }
            }
            return self.moveOn(from: attempt, failed: deployment)
        case .nextTarget:
            return self.moveOn(from: attempt, failed: deployment)
        }
    }

    /// The failed deployment's siblings, else the next stage, else the template.
    private mutating func moveOn(from attempt: Attempt, failed deployment: String?) -> Next {
        var excluded = attempt.excluded
        if let deployment { excluded.insert(deployment) }
        if let group = attempt.deployments, deployment != nil, group.deployments.contains(where: { !excluded.contains($0.id) }) {
            var next = self.begin(stage: attempt.stage, excluded: excluded)
            next.step = attempt.stage == 0 ? .retry : .smallerModel
            return .attempt(next)
        }
        guard attempt.stage + 1 < self.stages.count else { return self.exhausted() }
        return .attempt(self.begin(stage: attempt.stage + 1, excluded: []))
    }

    private mutating func exhausted() -> Next {
        self.current = nil
        return self.template.map(Next.template) ?? .giveUp
    }

    private mutating func begin(stage: Int, excluded: Set<String>) -> Attempt {
        self.attempts += 1
        self.retriesUsed = 0
        let attempt = Attempt(
            number: self.attempts, stage: stage, model: self.stages[stage].model, deployments: self.stages[stage].deployments,
            excluded: excluded, pinned: nil, step: stage == 0 ? .none : .smallerModel, delay: .zero
        )
        self.current = attempt
        return attempt
    }
}
