import Synchronization
import Testing
@testable import TollgateCore

@Suite struct DeploymentBalancerTests {
    let openai = Deployment(model: "gpt-5", provider: "openai", weight: 3)
    let azure = Deployment(model: "gpt-5", provider: "azure-east", weight: 1)
    let second = Deployment(model: "gpt-5", provider: "openai", weight: 1, name: "openai-2")

    /// A clock tests move by hand.
    final class ManualClock: Sendable {
        let current = Mutex(ContinuousClock.now)
        func now() -> ContinuousClock.Instant { self.current.withLock { $0 } }
        func advance(_ d: Duration) { self.current.withLock { $0 = $0.advanced(by: d) } }
    }

    @Test func weightedFollowsWeightsAndSpreadsPicks() {
        let balancer = DeploymentBalancer()
        let group = DeploymentGroup(deployments: [openai, azure], strategy: .weighted)
        let picks = (0..<400).compactMap { _ in balancer.choose(from: group)?.id }
        #expect(picks.filter { $0 == openai.id }.count == 300)
        #expect(picks.filter { $0 == azure.id }.count == 100)
        // Smooth: every cycle of 4 has exactly one azure pick, never two openai-free picks in a row.
        for cycle in stride(from: 0, to: 400, by: 4) {
            #expect(picks[cycle..<cycle + 4].filter { $0 == azure.id }.count == 1)
        }
    }

    @Test func weightedSkipsUnhealthyAndRecovers() {
        let clock = ManualClock()
        let balancer = DeploymentBalancer(now: { clock.now() })
        let group = DeploymentGroup(deployments: [openai, azure, second], strategy: .weighted)
        balancer.markUnhealthy(openai, for: .seconds(30))
        #expect(!balancer.isHealthy(openai))
        let picks = (0..<100).compactMap { _ in balancer.choose(from: group)?.id }
        #expect(!picks.contains(openai.id))
        #expect(picks.filter { $0 == azure.id }.count == 50)
        clock.advance(.seconds(31))
        #expect(balancer.isHealthy(openai))
        let later = (0..<500).compactMap { _ in balancer.choose(from: group)?.id }
        #expect(abs(later.filter { $0 == openai.id }.count - 300) <= 3)
        balancer.markUnhealthy(azure, for: .seconds(60))
        balancer.markHealthy(azure)
        #expect(balancer.isHealthy(azure))
    }

    @Test func nilWhenAllUnhealthy() {
        let balancer = DeploymentBalancer()
        for deployment in [openai, azure] { balancer.markUnhealthy(deployment, for: .seconds(10)) }
        #expect(balancer.choose(from: [openai, azure], strategy: .weighted) == nil)
        #expect(balancer.choose(from: [openai, azure], strategy: .leastInFlight) == nil)
        balancer.markHealthy(azure)
        #expect(balancer.choose(from: [openai, azure], strategy: .leastInFlight) == azure)
    }

    @Test func leastInFlightPerWeight() {
        let balancer = DeploymentBalancer()
        let even = [Deployment(model: "m", provider: "a"), Deployment(model: "m", provider: "b")]
        #expect(balancer.choose(from: even, strategy: .leastInFlight) == even[0])  // tie: first
        balancer.begin(even[0])
        #expect(balancer.choose(from: even, strategy: .leastInFlight) == even[1])
        balancer.begin(even[1])
        balancer.begin(even[1])
        #expect(balancer.choose(from: even, strategy: .leastInFlight) == even[0])
        balancer.end(even[1])
        balancer.end(even[1])
        #expect(balancer.inFlight(even[1]) == 0)
        balancer.end(even[1])  // unmatched end does not go negative
        #expect(balancer.inFlight(even[1]) == 0)
        // Weighted: openai (3) takes three before azure (1) takes a second.
        for _ in 0..<3 { balancer.begin(openai) }
        balancer.begin(azure)
        #expect(balancer.choose(from: [openai, azure], strategy: .leastInFlight) == openai)  // 3/3 vs 1/1: tie -> first
        balancer.begin(openai)
        #expect(balancer.choose(from: [openai, azure], strategy: .leastInFlight) == azure)
        balancer.markUnhealthy(azure, for: .seconds(5))
        #expect(balancer.choose(from: [openai, azure], strategy: .leastInFlight) == openai)
    }

    @Test func concurrentUseKeepsCountsConsistent() async {
        let balancer = DeploymentBalancer()
        let group = DeploymentGroup(deployments: [openai, azure], strategy: .leastInFlight)
        await withTaskGroup(of: Void.self) { tasks in
            for _ in 0..<8 {
                tasks.addTask {
                    for _ in 0..<1000 {
                        guard let chosen = balancer.choose(from: group) else { continue }
                        balancer.begin(chosen)
                        balancer.end(chosen)
                    }
                }
            }
        }
        #expect(balancer.inFlight(openai) == 0 && balancer.inFlight(azure) == 0)
    }
}
