import NIOCore

/// One server-sent event as it came off the wire.
///
/// `raw` holds the event's exact bytes, terminating blank line included, so a pass-through can
/// re-emit it unchanged; `data` is the joined `data:` lines the event carries.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field, or nil when the event has none (the SSE default, `message`).
    public var name: String?
    /// The `data:` lines joined by `\n`, as the SSE specification says.
    public var data: ByteBuffer
    /// True when the event had at least one `data:` line. Blocks of comments only (`: ping`)
    /// and name-only events have none; translators skip them, pass-throughs keep them.
    public var hasData: Bool
    /// The event's bytes exactly as received, line endings and comments included.
    public var raw: ByteBuffer

    public init(name: String? = nil, data: ByteBuffer, hasData: Bool = true, raw: ByteBuffer) {
        self.name = name
        self.data = data
        self.hasData = hasData
        self.raw = raw
    }

    /// True for OpenAI's end-of-stream sentinel, `data: [DONE]`.
    public var isDoneSentinel: Bool {
        self.hasData && self.data.readableBytesView.elementsEqual("[DONE]".utf8)
    }

    /// The data as text (lossy for invalid UTF-8), for diagnostics and tests.
    public var dataString: String { String(decoding: self.data.readableBytesView, as: UTF8.self) }
}
