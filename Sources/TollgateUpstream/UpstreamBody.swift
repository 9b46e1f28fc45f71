import NIOCore

/// The streamed response body: chunks as they arrive from the upstream.
///
/// Consumable once. Errors are thrown as ``UpstreamError`` (a cancelled consuming task
/// gets ``UpstreamError/cancelled``). While more than the client's high watermark is
/// buffered the transfer is paused, so a slow consumer slows the upstream down instead of
/// growing memory. Cancelling the consuming task, or dropping the body or its iterator
/// before the end, cancels the transfer and closes the upstream connection.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private let token: SequenceToken

    init(transfer: CurlTransfer) {
        self.token = SequenceToken(transfer: transfer)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        self.token.transfer.claimIterator()
        return AsyncIterator(token: IteratorToken(transfer: self.token.transfer))
    }

    /// Sendable: the token it holds is; the transfer serializes what the iterator does.
    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        private let token: IteratorToken

        fileprivate init(token: IteratorToken) {
            self.token = token
        }

        public mutating func next() async throws -> ByteBuffer? {
            try await self.token.transfer.nextChunk()
        }
    }

    /// Fails the transfer with `error`, from any task: the reader's next chunk throws it.
    /// How a consumer enforces a deadline of its own (the first streamed content).
    public func abort(_ error: UpstreamError) {
        self.token.transfer.abort(error)
    }

    // MARK: Testing

    /// The most body bytes that were buffered at once for this response.
    var maxBufferedBytes: Int { self.token.transfer.bodySnapshot().maxBufferedBytes }
    /// True while the transfer is paused because the consumer is behind.
    var isProducerPaused: Bool { self.token.transfer.bodySnapshot().paused }
}

/// Held by the ``UpstreamBody`` value(s); if they all go away before an iterator was
/// made, nobody will read the body and the transfer is cancelled.
private final class SequenceToken: Sendable {
    let transfer: CurlTransfer

    init(transfer: CurlTransfer) {
        self.transfer = transfer
    }

    deinit {
        self.transfer.consumerDropped(iterator: false)
    }
}

/// Held by the iterator; when it goes away before the end the transfer is cancelled.
private final class IteratorToken: Sendable {
    let transfer: CurlTransfer

    init(transfer: CurlTransfer) {
        self.transfer = transfer
    }

    deinit {
        self.transfer.consumerDropped(iterator: true)
    }
}
