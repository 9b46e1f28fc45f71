import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A loopback webhook receiver (`POST /hook`): keeps every body it is sent and answers with
/// the statuses it is told, in order (then 200).
public final class FakeWebhook: Sendable {
    public let port: Int
    private let state = Mutex<(bodies: [Data], statuses: [Int])>(([], []))

    init(port: Int) { self.port = port }

    public var url: String { "http://127.0.0.1:\(self.port)/hook" }

    /// Every body received, oldest first, failed deliveries included.
    public var bodies: [Data] { self.state.withLock { $0.bodies } }

    /// The next deliveries get these statuses, in order.
    public func answer(_ statuses: [Int]) { self.state.withLock { $0.statuses = statuses } }

    fileprivate func receive(_ body: Data) -> Int {
        self.state.withLock { state in
            state.bodies.append(body)
            return state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
        }
    }

    /// Runs a receiver on an ephemeral port for the duration of `body`.
    public static func withRunning<T: Sendable>(_ body: @Sendable (FakeWebhook) async throws -> T) async throws -> T {
        let slot = WebhookSlot()
        return try await LiveServer.run({ onPort in
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let bytes = try await request.body.collect(upTo: 1 << 20)
                let status = slot.webhook?.receive(Data(bytes.readableBytesView)) ?? 503
                return Response(status: .init(code: status))
            }
            return Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) }
            )
        }) { port in
            let webhook = FakeWebhook(port: port)
            slot.set(webhook)
            return try await body(webhook)
        }
    }
}

/// Hands the running receiver to its route handler once the port is known.
private final class WebhookSlot: Sendable {
    private let slot = Mutex<FakeWebhook?>(nil)
    var webhook: FakeWebhook? { self.slot.withLock { $0 } }
    func set(_ webhook: FakeWebhook) { self.slot.withLock { $0 = webhook } }
}
