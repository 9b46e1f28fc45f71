import NIOCore

/// Turns a provider's server-sent event stream into the stream the client expects, event by
/// event as bytes arrive: a pass-through when both speak the same format, a translator when
/// they do not. Every transcoder also reads the usage the provider reports, which prices the
/// request.
///
/// The server feeds each upstream chunk to `consume` and writes whatever `output` gained;
/// when the provider's stream ends it calls `finish`; when the stream fails after it started
/// (a transport error, or an error `consume`/`finish` threw) it calls `fail` so the client
/// gets an error event in its own format instead of a stream that just stops.
public protocol ResponseStreamTranscoder: Sendable {
    /// Consumes the next upstream bytes (all readable bytes of `input`); appends what the
    /// client should receive to `output`.
    mutating func consume(_ input: inout ByteBuffer, into output: inout ByteBuffer) throws(GatewayError)
    /// Upstream ended cleanly; appends any closing events (e.g. `data: [DONE]`). Throws when
    /// the provider's stream ended before its own end marker.
    mutating func finish(into output: inout ByteBuffer) throws(GatewayError)
    /// The stream failed after it started: appends `error` as the client's format reports a
    /// mid-stream failure. Does nothing once the stream has ended or already failed.
    mutating func fail(_ error: GatewayError, into output: inout ByteBuffer)
    /// Usage seen so far (exact once the provider sent it).
    var usage: TokenUsage? { get }
    /// The provider's events with data so far. Each content delta carries at least one
    /// token, so this bounds the output of a stream that broke before its usage report.
    var providerEvents: Int { get }
}
