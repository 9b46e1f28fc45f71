import Testing
@testable import TollgateCore

/// The circuit breaker's states, driven by an explicit clock.
@Suite struct CircuitBreakerTests {
    let start = ContinuousClock.now
    let policy = CircuitBreaker.Policy(failureRatio: 0.5, minimumRequests: 4, window: .seconds(10), coolDown: .seconds(5), halfOpenProbes: 1)

    @Test func opensOnAFailureRatioAndProbesAfterTheCoolDown() {
        var breaker = CircuitBreaker(policy: self.policy)
        #expect(breaker.record(success: false, at: self.start) == .none)
        #expect(breaker.record(success: true, at: self.start) == .none)
        #expect(breaker.record(success: false, at: self.start) == .none)  // 3 requests: under the minimum
        #expect(breaker.record(success: false, at: self.start) == .opened)  // 3 of 4 failed
        #expect(breaker.allowsRequest(at: self.start + .seconds(1)).allowed == false)
        // After the cool-down one probe goes through; others wait for its outcome.
        #expect(breaker.allowsRequest(at: self.start + .seconds(6)) == (true, .halfOpened))
        #expect(breaker.allowsRequest(at: self.start + .seconds(6)).allowed == false)
        #expect(breaker.record(success: false, at: self.start + .seconds(7)) == .opened)
        #expect(breaker.allowsRequest(at: self.start + .seconds(8)).allowed == false)
        #expect(breaker.allowsRequest(at: self.start + .seconds(13)) == (true, .halfOpened))
        #expect(breaker.record(success: true, at: self.start + .seconds(13)) == .closed)
        #expect(breaker.state == .closed && breaker.allowsRequest(at: self.start + .seconds(13)).allowed)
    }

    @Test func oldFailuresLeaveTheWindow() {
        var breaker = CircuitBreaker(policy: self.policy)
        for _ in 0..<3 { _ = breaker.record(success: false, at: self.start) }
        // Eleven seconds later those three are out of the 10 s window.
        #expect(breaker.record(success: false, at: self.start + .seconds(11)) == .none)
        #expect(breaker.state == .closed)
    }

    @Test func successesKeepItClosed() {
        var breaker = CircuitBreaker(policy: self.policy)
        for _ in 0..<10 { _ = breaker.record(success: true, at: self.start) }
        for _ in 0..<9 { #expect(breaker.record(success: false, at: self.start) == .none) }
        #expect(breaker.record(success: false, at: self.start) == .opened)  // 10 of 20
    }

    @Test func theRegistryReportsTransitions() {
        let clock = ManualInstant(self.start)
        let seen = TransitionLog()
        let breakers = CircuitBreakers(policy: self.policy, now: { clock.now }, onTransition: { seen.append($0 + ":" + $1.rawValue) })
        for _ in 0..<4 { breakers.record("openai/gpt-5", success: false) }
        #expect(!breakers.allowsRequest(to: "openai/gpt-5"))
        #expect(breakers.allowsRequest(to: "openai/gpt-4.1"))
        clock.advance(.seconds(6))
        #expect(breakers.allowsRequest(to: "openai/gpt-5"))
        breakers.record("openai/gpt-5", success: true)
        #expect(seen.entries == ["openai/gpt-5:open", "openai/gpt-5:half_open", "openai/gpt-5:closed"])
        #expect(breakers.notClosed.isEmpty)
    }

    @Test func aCircuitOpenedElsewhereRefusesUntilItsTimeAndClosesWithIt() {
        var breaker = CircuitBreaker(policy: self.policy)
        #expect(breaker.adoptOpen(until: self.start + .seconds(3), at: self.start) == .opened)
        #expect(breaker.openedElsewhere && !breaker.allowsRequest(at: self.start + .seconds(2)).allowed)
        // Past the other replica's time this one probes by itself.
        #expect(breaker.allowsRequest(at: self.start + .seconds(3)) == (true, .halfOpened))
        #expect(breaker.record(success: true, at: self.start + .seconds(3)) == .closed)
        // Closed by the replica that opened it.
        _ = breaker.adoptOpen(until: self.start + .seconds(10), at: self.start + .seconds(4))
        #expect(breaker.adoptClosed() == .closed && breaker.state == .closed)
        // A circuit this replica opened itself stays open whatever others say.
        for _ in 0..<4 { _ = breaker.record(success: false, at: self.start + .seconds(5)) }
        #expect(breaker.state == .open && !breaker.openedElsewhere)
        #expect(breaker.adoptClosed() == .none && breaker.state == .open)
        // An expired time is no news.
        var fresh = CircuitBreaker(policy: self.policy)
        #expect(fresh.adoptOpen(until: self.start, at: self.start + .seconds(1)) == .none && fresh.state == .closed)
    }

    @Test func theRegistrySharesOnlyItsOwnChanges() {
        let clock = ManualInstant(self.start)
        let seen = TransitionLog()
        let breakers = CircuitBreakers(policy: self.policy, now: { clock.now }, onTransition: { seen.append($0 + "=" + $1.rawValue) })
        for _ in 0..<4 { breakers.record("a", success: false) }
        #expect(breakers.takeLocalChanges() == ["a": .open])
        #expect(breakers.takeLocalChanges().isEmpty)
        breakers.adopt(openElsewhere: ["a": .seconds(5), "b": .seconds(5)])
        #expect(breakers.state(of: "b") == .open && !breakers.allowsRequest(to: "b"))
        // What came from elsewhere is not sent back.
        #expect(breakers.takeLocalChanges().isEmpty)
        breakers.adopt(openElsewhere: [:])
        #expect(breakers.state(of: "b") == .closed && breakers.state(of: "a") == .open)
        #expect(seen.entries == ["a=open", "b=open", "b=closed"])
        breakers.restoreLocalChanges(["a": .closed])
        #expect(breakers.takeLocalChanges() == ["a": .closed])
    }
}

import Synchronization

final class ManualInstant: Sendable {
    private let instant: Mutex<ContinuousClock.Instant>
    init(_ start: ContinuousClock.Instant) { self.instant = Mutex(start) }
    var now: ContinuousClock.Instant { self.instant.withLock { $0 } }
    func advance(_ duration: Duration) { self.instant.withLock { $0 = $0.advanced(by: duration) } }
}

final class TransitionLog: Sendable {
    private let log = Mutex<[String]>([])
    var entries: [String] { self.log.withLock { $0 } }
    func append(_ entry: String) { self.log.withLock { $0.append(entry) } }
}
