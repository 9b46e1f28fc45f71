import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TollgateCore
@testable import TollgateServer

/// Requests are handled on the event loop that owns their connection (`EventLoopBoundChannel`).
@Suite struct EventLoopExecutionTests {
    @Test func tasksPreferringALoopRunThereAndComeBackAfterAnotherThreadResumesThem() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop)
        let (startedOnLoop, resumedOnLoop, inheritedAsExpected) = await withTaskExecutorPreference(executor) { () async -> (Bool, Bool, Bool) in
            let started = loop.inEventLoop
            // Another thread resumes the task, as the curl loop thread resumes a request.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread { continuation.resume() }
            }
            let resumed = loop.inEventLoop
            // Child tasks inherit the preference.
            let child = await withTaskGroup(of: Bool.self) { group in
                group.addTask { loop.inEventLoop }
                return await group.next() ?? false
            }
            // Unstructured tasks do not inherit it (a settlement's task names its loop: below).
            let unstructured = await Task { loop.inEventLoop }.value
            return (started, resumed, child && !unstructured)
        }
        #expect(startedOnLoop && resumedOnLoop && inheritedAsExpected)
        #expect(!loop.inEventLoop)
        try await group.shutdownGracefully()
    }

    /// A shared store's settlement runs after the response, in a task of its own: on the
    /// event loop that finished the request, not on a pool thread.
    @Test func aSharedStoresSettlementRunsOnTheRequestsLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let store = SettlementRecorder()
        let costs = CostControl(
            prices: PriceBook(prices: ["m": ModelPrice(inputPerMillion: 1, outputPerMillion: 1)]), limits: LimitsConfig(),
            store: store, lease: .seconds(60), logger: Logger(label: "test")
        )
        let scope = QuotaScope(kind: .user, id: "u", name: "u", limits: .init(dailyBudget: USD(dollars: 1)), timeZone: TimeZone(identifier: "UTC")!)
        let claim = QuotaClaim(requestID: "r", scopes: [scope], tokens: 1, reservation: .zero)
        let ticket = CostTicket(claim: claim, grant: QuotaGrant(), price: ModelPrice(inputPerMillion: 1, outputPerMillion: 1))
        try await loop.submit { costs.settle(ticket, usage: nil, cost: .zero) }.get()
        costs.settle(ticket, usage: nil, cost: .zero)  // from no loop: the global pool
        // The two may finish in either order: one ran on the loop, the other did not.
        let onLoop = await store.settledOnLoop()
        #expect(onLoop.count == 2 && onLoop.filter { $0 }.count == 1)
        try await group.shutdownGracefully()
    }

    @Test func largeBodiesAreHandledOffTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let (small, large, back) = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) { () async throws -> (Bool, Bool, Bool) in
            let small = try await RequestWork.run(bodySize: RequestWork.eventLoopBodyLimit) { loop.inEventLoop }
            let large = try await RequestWork.run(bodySize: RequestWork.eventLoopBodyLimit + 1) { loop.inEventLoop }
            return (small, large, loop.inEventLoop)
        }
        #expect(small && !large && back)
        try await group.shutdownGracefully()
    }
}

@Suite struct RateLimitHeaderTests {
    @Test func resetTimesUseOpenAIsDurationFormat() {
        #expect(RateStatus.formatReset(0) == "0s")
        #expect(RateStatus.formatReset(-3) == "0s")
        #expect(RateStatus.formatReset(.nan) == "0s")
        #expect(RateStatus.formatReset(.infinity) == "0s")
        #expect(RateStatus.formatReset(0.0001) == "1ms")
        #expect(RateStatus.formatReset(0.12) == "120ms")
        #expect(RateStatus.formatReset(0.9991) == "1000ms")
        #expect(RateStatus.formatReset(1) == "1s")
        #expect(RateStatus.formatReset(58.5) == "59s")
        #expect(RateStatus.formatReset(59.2) == "1m0s")
        #expect(RateStatus.formatReset(60) == "1m0s")
        #expect(RateStatus.formatReset(360) == "6m0s")
        #expect(RateStatus.formatReset(3_661.5) == "61m2s")
        #expect(RateStatus.formatReset(1e300).hasSuffix("s"))
    }
}

/// A shared (asynchronous) store that records, per settlement, whether it ran on an event loop.
private final class SettlementRecorder: QuotaStore {
    private let onLoop = Mutex<[Bool]>([])

    func claim(_ claim: QuotaClaim) async throws -> Result<QuotaGrant, QuotaDenial> { .success(QuotaGrant()) }

    func settle(_ claim: QuotaClaim, _ settlement: QuotaSettlement) async throws {
        let onLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
        self.onLoop.withLock { $0.append(onLoop) }
    }

    func budgetUsedPercent(_ scopes: [QuotaScope], days: [BudgetDay?]) -> Double? { nil }

    /// Waits (up to 10 s) for two settlements, then says where each ran.
    func settledOnLoop() async -> [Bool] {
        for _ in 0..<1_000 {
            let seen = self.onLoop.withLock { $0 }
            if seen.count >= 2 { return seen }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return self.onLoop.withLock { $0 }
    }
}
