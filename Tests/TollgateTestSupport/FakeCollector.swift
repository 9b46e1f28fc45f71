import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A loopback OpenTelemetry collector stand-in: takes OTLP/HTTP JSON exports
/// (`POST /v1/traces`) and keeps every span, decoded.
public final class FakeCollector: Sendable {
    /// One received span. Ids in hex (OTLP JSON as swift-otel writes it carries them base64).
    public struct Span: Sendable {
        public var traceID: String
        public var spanID: String
        public var parentSpanID: String?
        public var name: String
        /// OTLP's numbering: 1 internal, 2 server, 3 client.
        public var kind: Int
        /// Values as text (numbers as written, booleans as true/false).
        public var attributes: [String: String]
        /// 0 unset, 1 ok, 2 error.
        public var statusCode: Int
        public var serviceName: String?
    }

    public let port: Int
    private let state = Mutex<(spans: [Span], bodies: [String])>(([], []))

    init(port: Int) { self.port = port }

    /// The base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it.
    public var endpoint: String { "http://127.0.0.1:\(self.port)" }

    public var spans: [Span] { self.state.withLock { $0.spans } }

    /// Every export body as received, to search for what must not be there.
    public var bodies: [String] { self.state.withLock { $0.bodies } }

    fileprivate func receive(_ body: Data) {
        let spans = Self.decode(body)
        self.state.withLock { state in
            state.spans += spans
            state.bodies.append(String(decoding: body, as: UTF8.self))
        }
    }

    static func decode(_ body: Data) -> [Span] {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return [] }
        var spans: [Span] = []
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            let resourceAttributes = Self.attributes((resource["resource"] as? [String: Any])?["attributes"])
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    let parent = Self.hex(span["parentSpanId"])
                    spans.append(Span(
                        traceID: Self.hex(span["traceId"]) ?? "", spanID: Self.hex(span["spanId"]) ?? "",
                        parentSpanID: parent?.isEmpty == false ? parent : nil, name: span["name"] as? String ?? "",
                        kind: Self.int(span["kind"]), attributes: Self.attributes(span["attributes"]),
                        statusCode: Self.int((span["status"] as? [String: Any])?["code"]), serviceName: resourceAttributes["service.name"]
                    ))
                }
            }
        }
        return spans
    }

    private static func int(_ value: Any?) -> Int {
        if let number = value as? Int { return number }
        if let text = value as? String { return Int(text) ?? 0 }
        return 0
    }

    /// OTLP JSON ids: hex per the spec, base64 as SwiftProtobuf's JSON mapping writes bytes.
    private static func hex(_ value: Any?) -> String? {
        guard let text = value as? String else { return nil }
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let data = Data(base64Encoded: text) else { return text }
        return data.map { String(format: "%02x", $0) }.joined()
    }

    private static func attributes(_ value: Any?) -> [String: String] {
        var result: [String: String] = [:]
        for entry in value as? [[String: Any]] ?? [] {
            guard let key = entry["key"] as? String, let value = entry["value"] as? [String: Any], let (kind, raw) = value.first else { continue }
            switch kind {
            case "boolValue": result[key] = (raw as? Bool).map { $0 ? "true" : "false" } ?? "\(raw)"
            default: result[key] = "\(raw)"
            }
        }
        return result
    }

    /// Runs a collector on an ephemeral port for the duration of `body`.
    public static func withRunning<T: Sendable>(_ body: @Sendable (FakeCollector) async throws -> T) async throws -> T {
        let shared = CollectorSlot()
        return try await LiveServer.run({ onPort in
            let router = Router()
            router.post("/v1/traces") { request, _ -> Response in
                let bytes = try await request.body.collect(upTo: 16 << 20)
                shared.collector?.receive(Data(bytes.readableBytesView))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
            }
            return Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) }
            )
        }) { port in
            let collector = FakeCollector(port: port)
            shared.set(collector)
            return try await body(collector)
        }
    }
}

/// Hands the running collector to its route handler once the port is known.
private final class CollectorSlot: Sendable {
    private let slot = Mutex<FakeCollector?>(nil)
    var collector: FakeCollector? { self.slot.withLock { $0 } }
    func set(_ collector: FakeCollector) { self.slot.withLock { $0 = collector } }
}
