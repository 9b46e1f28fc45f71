import Crypto

/// Makes and hashes gateway key secrets. Secrets are 40 random base62 characters (about 238
/// bits) behind a `tg-` prefix, so a leaked one is recognisable in logs and scanners.
public enum KeySecret {
    public static let prefix = "tg-"
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A new secret from the system's cryptographic random source.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 40)
        for index in bytes.indices {
            // Rejection sampling keeps every character equally likely.
            var value: UInt8
            repeat { value = generator.next() } while value >= 248
            bytes[index] = self.alphabet[Int(value % 62)]
        }
        return self.prefix + String(decoding: bytes, as: UTF8.self)
    }

    /// A short public id for a new key, used by `keys list` and `keys revoke`.
    public static func generateID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value: UInt64 = generator.next()
        let hex = String(value, radix: 16)
        return "key_" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Lower-case hex SHA-256 of the secret: what the key store keeps.
    public static func hash(_ secret: some StringProtocol) -> String {
        self.digest(secret).hex
    }

    /// The SHA-256 of the secret as a small value: a cheap dictionary key for per-request lookups.
    public static func digest(_ secret: some StringProtocol) -> KeyDigest {
        var copy = String(secret)
        let digest = copy.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return digest.withUnsafeBytes(KeyDigest.init(bytes:))
    }

    /// The first characters of a secret, safe to show so people can tell keys apart.
    public static func displayPrefix(_ secret: String) -> String {
        String(secret.prefix(self.prefix.count + 6))
    }

}

/// A SHA-256 digest of a key secret, held as four words.
public struct KeyDigest: Hashable, Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The digest's 32 bytes, in the order SHA-256 produces them.
    init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        self.words = (
            bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    public static func == (lhs: KeyDigest, rhs: KeyDigest) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    /// Equality that takes the same time wherever the digests differ (for the admin key: a
    /// caller cannot learn how much of its digest matched from the time taken).
    public func constantTimeEquals(_ other: KeyDigest) -> Bool {
        let difference = (self.words.0 ^ other.words.0) | (self.words.1 ^ other.words.1) | (self.words.2 ^ other.words.2)
            | (self.words.3 ^ other.words.3)
        return difference == 0
    }

    public func hash(into hasher: inout Hasher) {
        // Already uniformly distributed: one word is plenty.
        hasher.combine(self.words.0)
    }

    /// Lower-case hex, byte order as SHA-256 prints it.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0, count: 64)
        withUnsafeBytes(of: self.words) { raw in
            for (index, byte) in raw.enumerated() {
                bytes[index * 2] = digits[Int(byte >> 4)]
                bytes[index * 2 + 1] = digits[Int(byte & 0x0F)]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension KeyDigest {
    /// Parses 64 hex digits (as `sha256sum` prints them).
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = nibble(utf8[index * 2]), let low = nibble(utf8[index * 2 + 1]) else { return nil }
            bytes[index] = high << 4 | low
        }
        self = bytes.withUnsafeBytes(KeyDigest.init(bytes:))
    }
}
