import NIOCore

/// An incremental server-sent events parser.
///
/// Upstream bytes arrive in chunks split anywhere: mid-line, mid-UTF-8 sequence, between the
/// CR and LF of a line ending. `append` takes each chunk; `next` hands out every event that is
/// complete so far. Events are slices of one growing buffer, so parsing allocates per event
/// (a name, at most a joined data buffer), never per byte.
///
/// Lines end in LF, CRLF or CR. A CR that is the last byte received is not judged until the
/// next byte shows whether an LF follows, so every way of splitting a stream yields the same
/// events with the same raw bytes.
public struct SSEEventParser: Sendable {
    /// Bytes from the start of the current event on (the reader index is the event start).
    private var buffer = ByteBuffer()
    /// Offset (from the reader index) of the first line not yet looked at.
    private var scanOffset = 0
    private var current = PendingEvent()
    private var inputEnded = false
    /// Events with data returned so far: a broken stream's output is estimated from it.
    public private(set) var dataEvents = 0
    /// A single event larger than this is a broken or hostile upstream, not a real answer.
    public let maxEventBytes: Int

    private struct PendingEvent {
        var hasLines = false
        var name: String?
        var dataLines = 0
        /// Offset and length of the first data line's value, within the event.
        var firstData = (offset: 0, length: 0)
        /// Only built when an event has several data lines.
        var joinedData: ByteBuffer?
    }

    public init(maxEventBytes: Int = 16 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    /// Takes all readable bytes of `input` (moving its reader index to the end).
    public mutating func append(_ input: inout ByteBuffer) {
        guard input.readableBytes > 0 else { return }
        if self.buffer.readableBytes == 0 {
            // The common case: the last chunk ended on an event boundary; adopt the new
            // chunk without copying it.
            self.buffer = input
            self.scanOffset = 0
        } else {
            if self.buffer.readerIndex > 4096 && self.buffer.readerIndex > self.buffer.readableBytes {
                self.buffer.discardReadBytes()
            }
            self.buffer.writeBuffer(&input)
        }
        input.moveReaderIndex(to: input.writerIndex)
    }

    /// Declares that no more bytes will come: a trailing CR ends its line and an event left
    /// without its closing blank line is still delivered by `next()`.
    public mutating func finishInput() {
        self.inputEnded = true
    }

    /// Bytes received but not yet returned as part of an event.
    public var bufferedBytes: Int { self.buffer.readableBytes }

    /// The next complete event, or nil until more bytes arrive.
    public mutating func next() throws(GatewayError) -> SSEEvent? {
        while true {
            guard let (lineEnd, nextLine) = self.findLineEnd() else {
                if self.inputEnded { return self.flushRemainder() }
                if self.buffer.readableBytes > self.maxEventBytes {
                    throw .upstreamInvalidStream("the provider sent an event larger than \(self.maxEventBytes) bytes")
                }
                return nil
            }
            let lineStart = self.scanOffset
            self.scanOffset = nextLine
            if lineEnd == lineStart {
                // A blank line ends the event; blank lines before any field belong to the
                // next event's raw bytes so that a pass-through keeps them.
                guard self.current.hasLines else { continue }
                return self.dispatch(length: nextLine)
            }
            self.processLine(start: lineStart, end: lineEnd)
        }
    }

    // MARK: - Scanning

    /// The end of the next line after `scanOffset` and the start of the line after it.
    private func findLineEnd() -> (end: Int, next: Int)? {
        let start = self.scanOffset
        let inputEnded = self.inputEnded
        return self.buffer.withUnsafeReadableBytes { bytes -> (Int, Int)? in
            var index = start
            let count = bytes.count
            while index < count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\n") { return (index, index + 1) }
                if byte == UInt8(ascii: "\r") {
                    if index + 1 < count {
                        return (index, bytes[index + 1] == UInt8(ascii: "\n") ? index + 2 : index + 1)
                    }
                    // A CR as the last byte: an LF may still follow.
                    return inputEnded ? (index, index + 1) : nil
                }
                index += 1
            }
            return nil
        }
    }

    private mutating func processLine(start: Int, end: Int) {
        self.current.hasLines = true
        let base = self.buffer.readerIndex
        let fieldEnd: Int
        var valueStart: Int
        let colon = self.buffer.withUnsafeReadableBytes { bytes in
            bytes[start..<end].firstIndex(of: UInt8(ascii: ":"))
        }
        if let colon {
            if colon == start { return }  // a comment
            fieldEnd = colon
            valueStart = colon + 1
            if valueStart < end, self.buffer.getInteger(at: base + valueStart, as: UInt8.self) == UInt8(ascii: " ") {
                valueStart += 1
            }
        } else {
            fieldEnd = end
            valueStart = end
        }
        let field = self.buffer.viewBytes(at: base + start, length: fieldEnd - start)!
        if field.elementsEqual("data".utf8) {
            self.appendData(offset: valueStart, length: end - valueStart)
        } else if field.elementsEqual("event".utf8) {
            self.current.name = self.buffer.getString(at: base + valueStart, length: end - valueStart)
        }
        // `id` and `retry` stay in the raw bytes; the gateway has no use for them.
    }

    private mutating func appendData(offset: Int, length: Int) {
        self.current.dataLines += 1
        if self.current.dataLines == 1 {
            self.current.firstData = (offset, length)
            return
        }
        let base = self.buffer.readerIndex
        if self.current.joinedData == nil {
            var joined = ByteBuffer()
            joined.reserveCapacity(self.current.firstData.length + length + 1)
            joined.writeImmutableBuffer(self.buffer.getSlice(at: base + self.current.firstData.offset, length: self.current.firstData.length)!)
            self.current.joinedData = joined
        }
        self.current.joinedData!.writeInteger(UInt8(ascii: "\n"))
        self.current.joinedData!.writeImmutableBuffer(self.buffer.getSlice(at: base + offset, length: length)!)
    }

    // MARK: - Dispatch

    private mutating func dispatch(length: Int) -> SSEEvent {
        let raw = self.buffer.readSlice(length: length)!
        let pending = self.current
        self.current = PendingEvent()
        self.scanOffset = 0
        let data: ByteBuffer
        switch pending.dataLines {
        case 0: data = ByteBuffer()
        case 1: data = raw.getSlice(at: raw.readerIndex + pending.firstData.offset, length: pending.firstData.length)!
        default: data = pending.joinedData!
        }
        if pending.dataLines > 0 { self.dataEvents += 1 }
        return SSEEvent(name: pending.name, data: data, hasData: pending.dataLines > 0, raw: raw)
    }

    /// At end of input: the last line without a line ending, and whatever event it belongs to.
    private mutating func flushRemainder() -> SSEEvent? {
        let remaining = self.buffer.readableBytes
        guard remaining > 0 else { return nil }
        if self.scanOffset < remaining {
            self.processLine(start: self.scanOffset, end: remaining)
            self.scanOffset = remaining
        }
        return self.dispatch(length: remaining)
    }
}
