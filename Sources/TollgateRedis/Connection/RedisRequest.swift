import Synchronization

/// One call (a command or a pipeline) on its way through a connection loop.
///
/// The result is delivered exactly once, by whichever comes first: the loop thread with the
/// replies or an error, the caller's cancellation handler, or a rejected submit. Late
/// results are dropped; the loop still reads the replies of a request that was sent, so
/// the replies of later requests stay in order.
final class RedisRequest: Sendable {
    typealias Outcome = Result<[RedisReply], RedisError>

    private enum State {
        case pending
        case waiting(UnsafeContinuation<Outcome, Never>)
        /// Completed before the continuation was installed.
        case completed(Outcome)
        case delivered
    }

    let commands: [RedisCommand]
    private let deadlineNanoseconds: Atomic<UInt64>
    private let state = Mutex(State.pending)

    init(commands: [RedisCommand], deadline: UInt64) {
        self.commands = commands
        self.deadlineNanoseconds = Atomic(deadline)
    }

    /// Monotonic nanoseconds after which the caller is failed with `timeout`.
    var deadline: UInt64 {
        self.deadlineNanoseconds.load(ordering: .relaxed)
    }

    /// Moves the deadline later (never earlier). For calls that waited for the first connect.
    func extendDeadline(to deadline: UInt64) {
        self.deadlineNanoseconds.max(deadline, ordering: .relaxed)
    }

    /// Installs the caller's continuation. Returns false if the request was already
    /// completed (cancelled), in which case the continuation has been resumed.
    func install(_ continuation: UnsafeContinuation<Outcome, Never>) -> Bool {
        let early = self.state.withLock { state -> Outcome? in
            switch state {
            case .pending:
                state = .waiting(continuation)
                return nil
            case .completed(let outcome):
                state = .delivered
                return outcome
            case .waiting, .delivered:
                preconditionFailure("RedisRequest.install called twice")
            }
        }
        guard let early else { return true }
        continuation.resume(returning: early)
        return false
    }

    /// Delivers `outcome` unless a result was delivered already. Never resumes under the lock.
    func complete(_ outcome: Outcome) {
        let continuation = self.state.withLock { state -> UnsafeContinuation<Outcome, Never>? in
            switch state {
            case .pending:
                state = .completed(outcome)
                return nil
            case .waiting(let continuation):
                state = .delivered
                return continuation
            case .completed, .delivered:
                return nil
            }
        }
        continuation?.resume(returning: outcome)
    }

    /// True once the caller has its result (so there is no point sending the command).
    var isCompleted: Bool {
        self.state.withLock { state in
            switch state {
            case .pending, .waiting: false
            case .completed, .delivered: true
            }
        }
    }

    var expectedReplies: Int { self.commands.count }
}
