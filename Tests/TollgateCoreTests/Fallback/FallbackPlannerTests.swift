import Testing
@testable import TollgateCore

/// The fallback chain as a pure state machine: what follows each kind of failure.
@Suite struct FallbackPlannerTests {
    static func failure(_ kind: AttemptFailure.Kind, retryAfter: Duration? = nil, contextLength: Bool = false) -> AttemptFailure {
        AttemptFailure(kind, error: GatewayError(status: 502, type: "upstream_error", message: "x"), retryAfter: retryAfter, contextLengthExceeded: contextLength)
    }

    static func attempt(_ next: FallbackPlanner.Next) throws -> FallbackPlanner.Attempt {
        guard case .attempt(let attempt) = next else {
            Issue.record("expected an attempt, got \(next)")
            throw CancellationError()
        }
        return attempt
    }

    @Test func retriesThenFallsBackThenTemplates() throws {
        var planner = FallbackPlanner(stages: [.init(model: "big"), .init(model: "small")], template: "busy", retries: 1)
        let first = try Self.attempt(planner.start())
        #expect(first.model == "big" && first.step == .none && first.number == 1)
        let retry = try Self.attempt(planner.next(after: Self.failure(.status(503)), deployment: "openai/big", remaining: .seconds(60), jitter: 0.5))
        #expect(retry.model == "big" && retry.step == .retry && retry.pinned == "openai/big" && retry.delay > .zero)
        let fallback = try Self.attempt(planner.next(after: Self.failure(.status(503)), deployment: "openai/big", remaining: .seconds(60), jitter: 0.5))
        #expect(fallback.model == "small" && fallback.step == .smallerModel && fallback.delay == .zero)
        _ = try Self.attempt(planner.next(after: Self.failure(.connectFailed), deployment: "openai/small", remaining: .seconds(60), jitter: 0))
        #expect(planner.next(after: Self.failure(.connectFailed), deployment: "openai/small", remaining: .seconds(60), jitter: 0) == .template("busy"))
    }

    @Test func clientErrorsEndTheChainAndOthersSkipRetries() throws {
        var planner = FallbackPlanner(stages: [.init(model: "big"), .init(model: "small")], template: "busy", retries: 3)
        _ = planner.start()
        #expect(planner.next(after: Self.failure(.status(400)), deployment: "d", remaining: nil, jitter: 0) == .giveUp)

        // A first-byte timeout and a provider's credential error are not worth repeating there.
        var timeouts = FallbackPlanner(stages: [.init(model: "big"), .init(model: "small"), .init(model: "tiny")], template: nil, retries: 3)
        _ = timeouts.start()
        let next = try Self.attempt(timeouts.next(after: Self.failure(.firstByteTimeout), deployment: "d", remaining: nil, jitter: 0))
        #expect(next.model == "small")
        let credentials = try Self.attempt(timeouts.next(after: Self.failure(.status(401)), deployment: "e", remaining: nil, jitter: 0))
        #expect(credentials.model == "tiny" && credentials.number == 3)
        #expect(timeouts.next(after: Self.failure(.status(500)), deployment: "f", remaining: nil, jitter: 0) != .giveUp)
    }

    @Test func retryAfterIsHonouredOnlyWhenItFitsTheDeadline() throws {
        var planner = FallbackPlanner(stages: [.init(model: "big"), .init(model: "small")], template: nil, retries: 1)
        _ = planner.start()
        let waits = try Self.attempt(planner.next(after: Self.failure(.status(429), retryAfter: .seconds(2)), deployment: "d", remaining: .seconds(10), jitter: 0))
        #expect(waits.model == "big" && waits.delay == .seconds(2))

        var tight = FallbackPlanner(stages: [.init(model: "big"), .init(model: "small")], template: nil, retries: 1)
        _ = tight.start()
        let movesOn = try Self.attempt(tight.next(after: Self.failure(.status(429), retryAfter: .seconds(30)), deployment: "d", remaining: .seconds(10), jitter: 0))
        #expect(movesOn.model == "small")
        // No time left: nothing more is tried.
        #expect(tight.next(after: Self.failure(.status(503)), deployment: "d", remaining: .zero, jitter: 0) == .giveUp)
    }

    @Test func otherDeploymentsComeBeforeFallbackModels() throws {
        let group = DeploymentGroup(deployments: [Deployment(model: "big", provider: "a"), Deployment(model: "big", provider: "b")], strategy: .weighted)
        var planner = FallbackPlanner(stages: [.init(model: "big", deployments: group), .init(model: "small")], template: nil, retries: 0)
        _ = planner.start()
        let sibling = try Self.attempt(planner.next(after: Self.failure(.connectFailed), deployment: "a/big", remaining: nil, jitter: 0))
        #expect(sibling.model == "big" && sibling.excluded == ["a/big"] && sibling.step == .retry)
        let fallback = try Self.attempt(planner.next(after: Self.failure(.connectFailed), deployment: "b/big", remaining: nil, jitter: 0))
        #expect(fallback.model == "small")
    }

    @Test func aContextLengthErrorGoesToALargerWindowOnly() throws {
        let windows = ["big": 128_000, "small": 16_000, "huge": 1_000_000]
        var planner = FallbackPlanner(
            stages: [.init(model: "big"), .init(model: "small"), .init(model: "huge")], template: "busy", retries: 2,
            contextWindow: { windows[$0] }
        )
        _ = planner.start()
        let larger = try Self.attempt(planner.next(after: Self.failure(.status(400), contextLength: true), deployment: "d", remaining: nil, jitter: 0))
        #expect(larger.model == "huge")
        #expect(planner.next(after: Self.failure(.status(400), contextLength: true), deployment: "d", remaining: nil, jitter: 0) == .giveUp)
    }

    @Test func backoffGrowsAndStaysUnderItsCap() {
        let backoff = FallbackPlanner.Backoff(base: .milliseconds(100), cap: .seconds(1))
        #expect(backoff.delay(retry: 1, jitter: 0) == .milliseconds(50))
        #expect(backoff.delay(retry: 2, jitter: 0) == .milliseconds(100))
        #expect(backoff.delay(retry: 10, jitter: 0.999) < .seconds(1))
    }
}
