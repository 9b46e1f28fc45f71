/// One deployment's circuit breaker as a pure state machine: it counts outcomes over a
/// sliding window and opens when too many fail, so requests stop waiting on a deployment
/// that is down. After a cool-down it lets a few probes through (half-open): a success
/// closes it, a failure opens it again. Time comes in as an argument; no I/O, no clock.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case closed
        case open
        case halfOpen = "half_open"
    }

    public struct Policy: Sendable, Equatable {
        /// Failed share of the window's requests that opens the circuit.
        public var failureRatio: Double
        /// Fewer requests than this in the window never open it.
        public var minimumRequests: Int
        public var window: Duration
        /// How long an open circuit refuses before it lets probes through.
        public var coolDown: Duration
        /// Probes allowed at once while half-open.
        public var halfOpenProbes: Int

        public init(
            failureRatio: Double = 0.5, minimumRequests: Int = 10, window: Duration = .seconds(30), coolDown: Duration = .seconds(30),
            halfOpenProbes: Int = 1
        ) {
            self.failureRatio = failureRatio
            self.minimumRequests = minimumRequests
            self.window = window
            self.coolDown = coolDown
            self.halfOpenProbes = halfOpenProbes
        }
    }

    /// What `record` changed, for metrics and logs.
    public enum Transition: Sendable, Equatable {
        case none
        case opened
        case halfOpened
        case closed
    }

    /// The window in ten buckets: counts of one tenth of the window each.
    private static let bucketCount = 10
    private var buckets = [(start: ContinuousClock.Instant?, requests: Int, failures: Int)](repeating: (nil, 0, 0), count: 10)
    public private(set) var state = State.closed
    /// Open because another replica opened it (`adoptOpen`), not from this one's own outcomes.
    public private(set) var openedElsewhere = false
    private var openedAt: ContinuousClock.Instant?
    private var probesInFlight = 0
    public let policy: Policy

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    public static func == (lhs: CircuitBreaker, rhs: CircuitBreaker) -> Bool {
        lhs.state == rhs.state && lhs.policy == rhs.policy && lhs.openedAt == rhs.openedAt && lhs.probesInFlight == rhs.probesInFlight
    }

    /// Whether a request may go to the deployment now. Half-open, each allowed request is a
    /// probe; the caller reports its outcome with `record`.
    public mutating func allowsRequest(at now: ContinuousClock.Instant) -> (allowed: Bool, transition: Transition) {
        switch self.state {
        case .closed:
            return (true, .none)
        case .open:
            guard let openedAt, now - openedAt >= self.policy.coolDown else { return (false, .none) }
            self.state = .halfOpen
            self.probesInFlight = 1
            return (true, .halfOpened)
        case .halfOpen:
            guard self.probesInFlight < self.policy.halfOpenProbes else { return (false, .none) }
            self.probesInFlight += 1
            return (true, .none)
        }
    }

    /// Counts one finished request.
    public mutating func record(success: Bool, at now: ContinuousClock.Instant) -> Transition {
        switch self.state {
        case .halfOpen:
            self.probesInFlight = max(0, self.probesInFlight - 1)
            if success {
                self.reset()
                return .closed
            }
            self.open(at: now)
            return .opened
        case .open:
            // A request let through before the circuit opened: its outcome changes nothing.
            return .none
        case .closed:
            let bucket = self.bucket(at: now)
            self.buckets[bucket].requests += 1
            if !success { self.buckets[bucket].failures += 1 }
            let (requests, failures) = self.totals(at: now)
            guard requests >= self.policy.minimumRequests, Double(failures) >= self.policy.failureRatio * Double(requests) else {
                return .none
            }
            self.open(at: now)
            return .opened
        }
    }

    /// Another replica opened this deployment's circuit until `until`: this one refuses too,
    /// and probes after that instant like any open circuit. A later local open wins.
    public mutating func adoptOpen(until: ContinuousClock.Instant, at now: ContinuousClock.Instant) -> Transition {
        guard until > now else { return .none }
        let openedAt = until - self.policy.coolDown
        if self.state == .open {
            if let current = self.openedAt, current >= openedAt { return .none }
            self.openedAt = openedAt
            return .none
        }
        self.state = .open
        self.openedAt = openedAt
        self.probesInFlight = 0
        self.openedElsewhere = true
        return .opened
    }

    /// The replica that opened the circuit closed it again: so does this one, unless it
    /// opened it itself meanwhile.
    public mutating func adoptClosed() -> Transition {
        guard self.openedElsewhere, self.state != .closed else { return .none }
        self.reset()
        return .closed
    }

    private mutating func open(at now: ContinuousClock.Instant) {
        self.state = .open
        self.openedAt = now
        self.probesInFlight = 0
        self.openedElsewhere = false
    }

    private mutating func reset() {
        self.openedElsewhere = false
        self.state = .closed
        self.openedAt = nil
        self.probesInFlight = 0
        for index in self.buckets.indices { self.buckets[index] = (nil, 0, 0) }
    }

    private var bucketWidth: Duration { self.policy.window / Self.bucketCount }

    /// The bucket for `now`, emptied first if it last held an older slice of time.
    private mutating func bucket(at now: ContinuousClock.Instant) -> Int {
        let width = self.bucketWidth
        let slice = Int((now - ContinuousClock.Instant.origin) / width)
        let index = ((slice % Self.bucketCount) + Self.bucketCount) % Self.bucketCount
        let start = ContinuousClock.Instant.origin.advanced(by: width * slice)
        if self.buckets[index].start != start { self.buckets[index] = (start, 0, 0) }
        return index
    }

    private func totals(at now: ContinuousClock.Instant) -> (requests: Int, failures: Int) {
        var requests = 0
        var failures = 0
        for bucket in self.buckets {
            guard let start = bucket.start, now - start < self.policy.window else { continue }
            requests += bucket.requests
            failures += bucket.failures
        }
        return (requests, failures)
    }
}

extension ContinuousClock.Instant {
    /// A fixed instant to count buckets from (any will do; this process's clock starts near it).
    static let origin = ContinuousClock.now
}
