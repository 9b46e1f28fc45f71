/// One reply from Redis (the RESP2 types).
///
/// ``RedisClient/send(_:)`` and ``RedisClient/evaluate(_:keys:arguments:)`` never return
/// ``error(_:)`` at the top level: an error reply to the command is thrown as
/// ``RedisError/reply(_:)``. ``error(_:)`` appears inside arrays (a script's or a
/// transaction's results) and in the per-command results of ``RedisClient/pipeline(_:)``,
/// where one failed command does not fail the others.
public enum RedisReply: Sendable, Hashable {
    /// A bulk string: binary-safe bytes, such as the value of `GET`.
    case string([UInt8])
    /// A simple status string, such as `OK` or `PONG`.
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    /// A nil bulk string or nil array, such as `GET` of a missing key.
    case null
    /// An error reply (see above for where it appears).
    case error(String)
}

// MARK: - Accessors

extension RedisReply {
    /// The text of a bulk string (decoded as UTF-8, invalid bytes repaired) or of a status.
    public var stringValue: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// The bytes of a bulk string.
    public var bytesValue: [UInt8]? {
        if case .string(let bytes) = self { bytes } else { nil }
    }

    public var integerValue: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }

    public var arrayValue: [RedisReply]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    public var errorMessage: String? {
        if case .error(let message) = self { message } else { nil }
    }

    public var isNull: Bool {
        self == .null
    }
}

// MARK: - Literals

/// A string literal is a bulk string (`"v"` is `.string(Array("v".utf8))`), not a status.
extension RedisReply: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .string(Array(value.utf8))
    }
}

extension RedisReply: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self = .integer(value)
    }
}

extension RedisReply: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: RedisReply...) {
        self = .array(elements)
    }
}

// MARK: - Description

extension RedisReply: CustomStringConvertible {
    /// Roughly as redis-cli prints it, on one line.
    public var description: String {
        switch self {
        case .string(let bytes): "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .status(let text): text
        case .integer(let value): "(integer) \(value)"
        case .array(let elements): "[\(elements.map(\.description).joined(separator: ", "))]"
        case .null: "(nil)"
        case .error(let message): "(error) \(message)"
        }
    }
}
