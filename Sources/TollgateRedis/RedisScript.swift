import Crypto

/// A Lua script run with ``RedisClient/evaluate(_:keys:arguments:)``.
///
/// Its SHA1 is computed here, so the first call can go straight to `EVALSHA`; the client
/// loads the source with `SCRIPT LOAD` only when Redis answers `NOSCRIPT` (first use, a
/// server restart, `SCRIPT FLUSH`). Create scripts once (as `static let`s), not per call.
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lowercase hex SHA1 of `source`, as Redis names the script.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        let digest = Insecure.SHA1.hash(data: Array(source.utf8))
        let hexDigits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(40)
        for byte in digest {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0f)])
        }
        self.sha1 = String(decoding: hex, as: UTF8.self)
    }
}
