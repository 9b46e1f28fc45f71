import NIOCore

/// Removes a provider credential from everything that came from the provider before it leaves
/// for a client, a log or the ledger: every field of an error, whole answers, stream events.
/// Plain text is searched byte for byte; JSON is also read as a client reads it (escaped
/// forms, text split across stream events: ``SecretStreamScrubber``).
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
        guard text.utf8.count >= self.secret.count else { return text }
        return text.replacing(self.secretText, with: Self.replacement)
    }

    /// Every text field and header of an error the provider's answer shaped.
    public func scrub(_ error: GatewayError) -> GatewayError {
        var error = error
        error.message = self.scrub(error.message)
        error.type = self.scrub(error.type)
        error.code = error.code.map(self.scrub)
        error.param = error.param.map(self.scrub)
        error.headers = error.headers.map { ($0.name, self.scrub($0.value)) }
        return error
    }

    /// A whole answer body: JSON read as a client reads it, then the raw bytes; nil when
    /// there was nothing to cut.
    public func scrubDocument(_ buffer: ByteBuffer) -> ByteBuffer? {
        let unescaped = SecretStreamScrubber.scrub(buffer, secret: self.secretText)
        return self.scrub(unescaped ?? buffer) ?? unescaped
    }

    /// A scrubber for one stream's events, in order.
    public func streamScrubber() -> SecretStreamScrubber {
        SecretStreamScrubber(secret: self.secretText)!  // same length rule as this one
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
