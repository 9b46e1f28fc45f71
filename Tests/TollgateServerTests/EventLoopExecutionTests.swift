import Foundation
import NIOCore
import NIOPosix
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
            // Unstructured tasks (a settlement sent to Redis, say) do not inherit it.
            let unstructured = await Task { loop.inEventLoop }.value
            return (started, resumed, child && !unstructured)
        }
        #expect(startedOnLoop && resumedOnLoop && inheritedAsExpected)
        #expect(!loop.inEventLoop)
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
