import NIOCore

/// Removes a provider credential from text that came from the provider before a client sees
/// it: error messages, and the events of a relayed stream (a provider error event may quote
/// the key it was called with). A stream is scrubbed event by event, so a key is never split
/// across two checks.
public struct SecretScrubber: Sendable {
    private let secret: [UInt8]
    private let secretText: String
    public static let replacement = "<redacted>"

    /// Nil for secrets too short to look for without mangling ordinary text.
    public init?(secret: String) {
        guard secret.utf8.count >= 8 else { return nil }
        self.secret = Array(secret.utf8)
        self.secretText = secret
    }

    public func scrub(_ text: String) -> String {
        text.replacing(self.secretText, with: Self.replacement)
    }

    /// `buffer` with every occurrence of the secret replaced; nil (nothing to copy) when the
    /// secret is not in it, which is every time for a well-behaved provider.
    public func scrub(_ buffer: ByteBuffer) -> ByteBuffer? {
        buffer.withUnsafeReadableBytes { bytes -> ByteBuffer? in
            guard var match = self.firstMatch(in: bytes, from: 0) else { return nil }
            var result = ByteBuffer()
            result.reserveCapacity(bytes.count)
            var copied = 0
            while true {
                result.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[copied..<match]))
                result.writeString(Self.replacement)
                copied = match + self.secret.count
                guard let next = self.firstMatch(in: bytes, from: copied) else { break }
                match = next
            }
            result.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[copied...]))
            return result
        }
    }

    private func firstMatch(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        self.secret.withUnsafeBytes { ByteScan.firstIndex(of: $0, in: bytes, from: start) }
    }
}

/// A scrubber holds the secret: it must not print it.
extension SecretScrubber: CustomStringConvertible {
    public var description: String { "SecretScrubber(<redacted>)" }
}
