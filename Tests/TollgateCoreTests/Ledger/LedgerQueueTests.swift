import Testing
@testable import TollgateCore

/// The writer's queue as a state machine, without a database or a writer task.
@Suite struct LedgerQueueTests {
    func pending(_ index: Int) -> LedgerQueue.Pending {
        .init(entry: LedgerFixtures.entry(index), enqueuedAt: .now)
    }

    @Test func fullQueueRefusesThenBlocksInOrder() async {
        var queue = LedgerQueue(capacity: 2)
        guard case .enqueued = queue.enqueue(self.pending(0)), case .enqueued = queue.enqueue(self.pending(1)) else {
            Issue.record("room for two")
            return
        }
        guard case .full = queue.enqueue(self.pending(2)) else {
            Issue.record("a full queue refuses")
            return
        }
        // A blocked caller's row goes in when a batch makes room, in arrival order.
        let resumedWith = await withCheckedContinuation { (caller: CheckedContinuation<Bool, Never>) in
            guard case .blocked = queue.enqueueOrBlock(self.pending(2), continuation: caller) else {
                Issue.record("the caller waits")
                caller.resume(returning: true)
                return
            }
            #expect(queue.depth == 3)
            let (batch, unblocked) = queue.takeBatch(maxCount: 1)
            #expect(batch.entries.map(\.requestID) == ["req-0"])
            #expect(unblocked.count == 1)
            for continuation in unblocked { continuation.resume(returning: false) }
        }
        #expect(resumedWith == false)
        #expect(queue.takeBatch(maxCount: 10).batch.entries.map(\.requestID) == ["req-1", "req-2"])
        #expect(queue.depth == 0)
    }

    @Test func roomMadeBeforeBlockingIsNotAWait() async {
        var queue = LedgerQueue(capacity: 1)
        _ = queue.enqueue(self.pending(0))
        _ = queue.takeBatch(maxCount: 1)  // the writer made room between the caller's two tries
        let resumedWith = await withCheckedContinuation { (caller: CheckedContinuation<Bool, Never>) in
            if case .enqueued = queue.enqueueOrBlock(self.pending(1), continuation: caller) {
                caller.resume(returning: false)
            } else {
                Issue.record("the row fits: the caller must not be kept")
                caller.resume(returning: true)
            }
        }
        #expect(resumedWith == false)
        #expect(queue.blockedCount == 0)
        #expect(queue.depth == 1)
    }

    @Test func finishHandsBackEverythingAndRefusesLaterRows() async {
        var queue = LedgerQueue(capacity: 1)
        _ = queue.enqueue(self.pending(0))
        let resumedWith = await withCheckedContinuation { (caller: CheckedContinuation<Bool, Never>) in
            _ = queue.enqueueOrBlock(self.pending(1), continuation: caller)
            let (rest, unblocked) = queue.finish()
            #expect(rest.entries.map(\.requestID) == ["req-0", "req-1"])
            for continuation in unblocked { continuation.resume(returning: false) }
        }
        #expect(resumedWith == false)
        guard case .finished = queue.enqueue(self.pending(2)) else {
            Issue.record("a finished queue takes no rows")
            return
        }
    }

    @Test func aRecycledBatchBufferCarriesNoOldRows() {
        var queue = LedgerQueue(capacity: 10)
        for index in 0..<3 { _ = queue.enqueue(self.pending(index)) }
        let first = queue.takeBatch(maxCount: 2).batch
        #expect(first.entries.map(\.requestID) == ["req-0", "req-1"])
        queue.recycle(first)
        _ = queue.enqueue(self.pending(3))
        let second = queue.takeBatch(maxCount: 5).batch
        #expect(second.entries.map(\.requestID) == ["req-2", "req-3"])
        #expect(queue.depth == 0)
        _ = queue.enqueue(self.pending(4))
        #expect(queue.takeBatch(maxCount: 5).batch.entries.map(\.requestID) == ["req-4"])
    }

    @Test func backoffDoublesUpToFiveSeconds() {
        #expect((1...9).map { LedgerWriter.backoff(attempt: $0) } == [50, 100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000].map { .milliseconds($0) })
    }
}
