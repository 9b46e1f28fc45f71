import Foundation
import Logging
import NIOCore
import TollgateCore

/// Writes one JSON object per line to standard error: what log shippers expect from a server.
/// Metadata is flattened into top-level fields (`request.id`, `route`, `model`...).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(256)
        buffer.writeString(#"{"ts":"#)
        buffer.writeJSONQuoted(Self.timestamp())
        buffer.writeString(#","level":"#)
        buffer.writeJSONQuoted(event.level.rawValue)
        buffer.writeString(#","logger":"#)
        buffer.writeJSONQuoted(self.label)
        buffer.writeString(#","msg":"#)
        buffer.writeJSONQuoted(event.message.description)
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for key in merged.keys.sorted() {
            buffer.writeInteger(UInt8(ascii: ","))
            buffer.writeJSONQuoted(key)
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeJSONQuoted(merged[key]!.description)
        }
        buffer.writeString("}\n")
        // One write(2) per line keeps lines from concurrent requests whole.
        buffer.withUnsafeReadableBytes { bytes in
            _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count)
        }
    }

    /// UTC RFC 3339 with milliseconds (`2026-11-29T07:19:06.779Z`), without a formatter object.
    static func timestamp() -> String {
        // From Date, not clock_gettime: with swift-otel in the graph a release build finds
        // `timespec` only through CNIOLinux, which this module does not import.
        let now = Date().timeIntervalSince1970
        let whole = now.rounded(.down)
        var seconds = time_t(whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = min(999, Int((now - whole) * 1000))
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(millis, 3) + "Z"
    }
}
