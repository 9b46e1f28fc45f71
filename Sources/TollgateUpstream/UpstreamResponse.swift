import NIOCore

/// Status and headers of the final upstream response; the body streams after.
public struct UpstreamResponse: Sendable {
    public let status: Int
    /// Headers of the final response (not of 1xx responses), names as received.
    public let headers: [(name: String, value: String)]
    /// The body, consumable once. Dropping it (or its iterator) before the end cancels
    /// the transfer and closes the upstream connection.
    public let body: UpstreamBody

    init(status: Int, headers: [(name: String, value: String)], body: UpstreamBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name`, compared case-insensitively (ASCII).
    public func header(_ name: String) -> String? {
        for header in self.headers where asciiCaseInsensitiveEquals(header.name, name) {
            return header.value
        }
        return nil
    }

    /// Reads the whole body into one buffer; throws ``UpstreamError/responseTooLarge``
    /// (and cancels the transfer) past `maxBytes`.
    public func collectBody(upTo maxBytes: Int) async throws -> ByteBuffer {
        var collected: ByteBuffer?
        for try await chunk in self.body {
            let total = (collected?.readableBytes ?? 0) + chunk.readableBytes
            guard total <= maxBytes else { throw UpstreamError.responseTooLarge }
            if collected == nil {
                if let length = self.header("content-length").flatMap({ Int($0) }),
                    length > chunk.readableBytes, length <= maxBytes
                {
                    var buffer = ByteBufferAllocator().buffer(capacity: length)
                    buffer.writeImmutableBuffer(chunk)
                    collected = buffer
                } else {
                    collected = chunk
                }
            } else {
                collected!.writeImmutableBuffer(chunk)
            }
        }
        return collected ?? ByteBuffer()
    }
}

/// ASCII case-insensitive comparison without Foundation.
func asciiCaseInsensitiveEquals(_ lhs: String, _ rhs: String) -> Bool {
    var left = lhs.utf8.makeIterator()
    var right = rhs.utf8.makeIterator()
    while true {
        switch (left.next(), right.next()) {
        case (nil, nil):
            return true
        case (let a?, let b?):
            if a != b, asciiLower(a) != asciiLower(b) { return false }
        default:
            return false
        }
    }
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
}
