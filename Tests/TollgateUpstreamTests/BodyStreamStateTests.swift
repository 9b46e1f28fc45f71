import NIOCore
import Testing

@testable import TollgateUpstream

/// The watermark state machine, without I/O.
struct BodyStreamStateTests {
    private func chunk(_ size: Int) -> ByteBuffer {
        ByteBuffer(repeating: 0, count: size)
    }

    @Test func pausesAboveHighAndResumesAtLow() {
        var state = BodyStreamState(highWatermark: 100, lowWatermark: 40)
        #expect(isAccepted(state.yield(self.chunk(60))))
        #expect(isAccepted(state.yield(self.chunk(60))))  // crosses high: pause requested
        #expect(state.flow == .pauseRequested)
        #expect(isPause(state.yield(self.chunk(60))))  // refused, curl keeps it
        #expect(state.flow == .paused)
        #expect(state.bufferedBytes == 120)

        guard case .element(_, let resume1) = state.next() else { Issue.record("expected element"); return }
        #expect(!resume1)  // 60 left, still above low
        guard case .element(_, let resume2) = state.next() else { Issue.record("expected element"); return }
        #expect(resume2)  // drained to 0: unpause
        #expect(state.flow == .producing)
        #expect(state.maxBufferedBytes == 120)
    }

    @Test func pauseRequestIsWithdrawnIfConsumerCaughtUp() {
        var state = BodyStreamState(highWatermark: 100, lowWatermark: 40)
        _ = state.yield(self.chunk(150))
        #expect(state.flow == .pauseRequested)
        guard case .element(_, let resume) = state.next() else { Issue.record("expected element"); return }
        #expect(!resume)  // never actually paused
        #expect(isAccepted(state.yield(self.chunk(10))))
    }

    @Test func bufferedDataIsDeliveredBeforeTheError() {
        var state = BodyStreamState(highWatermark: 100, lowWatermark: 40)
        _ = state.yield(self.chunk(10))
        guard case .none = state.fail(.connectionClosed) else { Issue.record("no waiter expected"); return }
        guard case .element = state.next() else { Issue.record("expected element"); return }
        guard case .fail(let error) = state.next() else { Issue.record("expected error"); return }
        #expect(error == .connectionClosed)
        guard case .end = state.next() else { Issue.record("expected end"); return }
    }

    @Test func droppingTheConsumerCancelsOnlyARunningTransfer() {
        var running = BodyStreamState(highWatermark: 100, lowWatermark: 40)
        _ = running.yield(self.chunk(10))
        let cancelRunning = running.dropConsumer()
        #expect(cancelRunning)
        #expect(isDrop(running.yield(self.chunk(10))))

        var finished = BodyStreamState(highWatermark: 100, lowWatermark: 40)
        _ = finished.finish()
        let cancelFinished = finished.dropConsumer()
        #expect(!cancelFinished)
    }

    @Test func cancellingTheConsumerThrowsCancelledOnce() {
        var state = BodyStreamState(highWatermark: 100, lowWatermark: 40)
        _ = state.yield(self.chunk(10))
        let (waiter, cancelTransfer) = state.cancelConsumer()
        #expect(waiter == nil)
        #expect(cancelTransfer)
        guard case .fail(let error) = state.next() else { Issue.record("expected error"); return }
        #expect(error == .cancelled)
        guard case .end = state.next() else { Issue.record("expected end"); return }
    }

    private func isAccepted(_ action: BodyStreamState.YieldAction) -> Bool {
        if case .accepted = action { return true }
        return false
    }

    private func isPause(_ action: BodyStreamState.YieldAction) -> Bool {
        if case .pause = action { return true }
        return false
    }

    private func isDrop(_ action: BodyStreamState.YieldAction) -> Bool {
        if case .drop = action { return true }
        return false
    }
}
