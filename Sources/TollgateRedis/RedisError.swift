/// Why a Redis call failed.
///
/// The cases say whether the command may have run, which matters to callers that reserve
/// budget or rate-limit tokens: after ``unavailable`` it did not run; after ``timeout``,
/// ``connectionLost`` and ``cancelled`` it may have.
public enum RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not connected (the client is reconnecting, or could not connect at all). The
    /// command was not sent; callers fail at once instead of queueing.
    case unavailable
    /// No reply within the command timeout. The client closes that connection (and fails
    /// the commands sent on it with this error too) and reconnects. The command may have run.
    case timeout
    /// The connection broke after the command was sent. The command may have run.
    case connectionLost
    /// The calling task was cancelled before the reply arrived. The command may still
    /// run; its reply is read and discarded, so the connection stays usable.
    case cancelled
    /// The client shut down before the reply arrived.
    case shutdown
    /// Redis answered with an error reply, such as `WRONGTYPE ...`, `ERR unknown command`
    /// or a Lua error raised by a script.
    case reply(String)
    /// The command cannot be sent as given (no arguments, or more than hiredis takes).
    case invalidCommand(String)

    /// The server may answer the same command if it is sent again later: it was not reached,
    /// or did not answer in time. (A reply error, a cancellation or a shutdown will not change.)
    public var isTransient: Bool {
        switch self {
        case .unavailable, .timeout, .connectionLost: true
        case .cancelled, .shutdown, .reply, .invalidCommand: false
        }
    }

    public var description: String {
        switch self {
        case .unavailable: "Redis is unavailable (not connected)"
        case .timeout: "Redis did not reply within the command timeout"
        case .connectionLost: "the Redis connection was lost before the reply arrived"
        case .cancelled: "the Redis call was cancelled"
        case .shutdown: "the Redis client shut down"
        case .reply(let message): "Redis replied with an error: \(message)"
        case .invalidCommand(let reason): "invalid Redis command: \(reason)"
        }
    }
}
