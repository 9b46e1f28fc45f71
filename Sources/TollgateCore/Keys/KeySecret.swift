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
        let digest = SHA256.hash(data: Array(secret.utf8))
        var hex = ""
        hex.reserveCapacity(64)
        for byte in digest {
            hex.append(Self.hexDigits[Int(byte >> 4)])
            hex.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        return hex
    }

    /// The first characters of a secret, safe to show so people can tell keys apart.
    public static func displayPrefix(_ secret: String) -> String {
        String(secret.prefix(self.prefix.count + 6))
    }

    private static let hexDigits: [Character] = Array("0123456789abcdef")
}
