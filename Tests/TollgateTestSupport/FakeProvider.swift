import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A loopback stand-in for a model provider. It speaks the OpenAI wire format (chat
/// completions plain and streamed, with `stream_options.include_usage`, tool calls,
/// embeddings, models, error bodies; the same chat completions as an Azure OpenAI deployment,
/// `/openai/deployments/{deployment}/chat/completions?api-version=…` with `api-key`) and the
/// Anthropic Messages format (`POST /v1/messages`,
/// plain and streamed event by event like the real API, tool use, errors). Tests script it
/// per model to be slow, fail, rate-limit, call tools or cut a stream, and read back what it
/// received, headers included.
public final class FakeProvider: Sendable {
    /// The API key the provider accepts.
    public let apiKey: String
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(self.port)/v1" }
    /// The root, for providers whose base URL has no `/v1` (Anthropic, an Azure resource).
    public var rootURL: String { "http://127.0.0.1:\(self.port)" }

    let state: Mutex<State>

    struct State {
        var behaviors: [String: Behavior] = [:]
        var received: [ReceivedRequest] = []
        var cancelledStreams = 0
        var completedStreams = 0
    }

    init(apiKey: String, port: Int, state: consuming Mutex<State>) {
        self.apiKey = apiKey
        self.port = port
        self.state = state
    }

    /// Makes requests for `model` behave as told (until changed).
    public func setBehavior(_ behavior: Behavior, forModel model: String) {
        self.state.withLock { $0.behaviors[model] = behavior }
    }

    /// Every request received so far, oldest first.
    public var received: [ReceivedRequest] { self.state.withLock { $0.received } }

    /// Streams that ended because the client (the gateway) went away before the end.
    public var cancelledStreams: Int { self.state.withLock { $0.cancelledStreams } }

    /// Streams written to the end.
    public var completedStreams: Int { self.state.withLock { $0.completedStreams } }

    /// The behavior for the next request for `model`: a `.sequence` hands out its first
    /// step and keeps the rest (its last step stays for every later request).
    func behavior(for model: String) -> Behavior {
        self.state.withLock { state in
            let behavior = state.behaviors[model] ?? .normal
            guard case .sequence(let steps) = behavior, let first = steps.first else { return behavior }
            if steps.count > 1 { state.behaviors[model] = .sequence(Array(steps.dropFirst())) }
            return first
        }
    }

    /// Requests received for `model` (by the body's `model`, or an Azure deployment's path).
    public func received(forModel model: String) -> [ReceivedRequest] {
        self.received.filter { $0.json?["model"] as? String == model || $0.path.contains("/deployments/\(model)/") }
    }

    func record(_ request: ReceivedRequest) {
        self.state.withLock { $0.received.append(request) }
    }

    /// Runs a fake provider on an ephemeral loopback port for the duration of `body`.
    public static func withRunning<T: Sendable>(
        apiKey: String = "sk-fake-provider-key-0123456789",
        _ body: @Sendable (FakeProvider) async throws -> T
    ) async throws -> T {
        let slot = ProviderSlot()
        return try await LiveServer.run({ onPort in
            Self.makeApplication(port: 0, slot: slot, onPort: onPort)
        }) { port in
            let provider = FakeProvider(apiKey: apiKey, port: port, state: Mutex(State()))
            slot.set(provider)
            return try await body(provider)
        }
    }

    /// Serves as a stand-alone process until SIGTERM or SIGINT. `behaviors`: how requests for
    /// these models behave from the start (every other model answers normally), so that a
    /// client that cannot script the process can still pick a failure by model name.
    public static func serve(
        apiKey: String, port: Int, behaviors: [String: Behavior] = [:], onRunning: @escaping @Sendable (Int) -> Void
    ) async throws {
        let slot = ProviderSlot()
        let app = Self.makeApplication(port: port, slot: slot) { bound in
            let provider = FakeProvider(apiKey: apiKey, port: bound, state: Mutex(State()))
            for (model, behavior) in behaviors { provider.setBehavior(behavior, forModel: model) }
            slot.set(provider)
            onRunning(bound)
        }
        try await app.runService()
    }

    private static func makeApplication(
        port: Int,
        slot: ProviderSlot,
        onPort: @escaping @Sendable (Int) async -> Void
    ) -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        FakeProviderRoutes.register(on: router) { slot.get() }
        var logger = Logger(label: "fake-provider")
        logger.logLevel = .warning
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "fake-provider"),
            onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}

/// A request as the fake provider saw it.
public struct ReceivedRequest: Sendable {
    public var method: String
    public var path: String
    /// The query string, without `?` (empty when there is none).
    public var query: String = ""
    /// Header values by lower-cased name.
    public var headers: [String: String]
    public var body: Data

    public var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: self.body)) as? [String: Any]
    }
}

/// What the fake provider does with requests for one model.
public enum Behavior: Sendable {
    /// Answers normally: "Echo: <last user message>".
    case normal
    /// Answers with exactly this assistant text.
    case reply(String)
    /// Waits before sending anything.
    case delay(Duration)
    /// Answers with an OpenAI error body and this status.
    case error(status: Int, type: String, code: String?, message: String)
    /// 429 with `Retry-After` (seconds).
    case rateLimited(retryAfter: Int)
    /// Streams `chunks` content chunks, `interval` apart (non-stream requests: waits the whole time).
    case slowStream(chunks: Int, interval: Duration)
    /// Streams `chunks` chunks and then breaks the connection without finishing the response.
    case cutStream(afterChunks: Int)
    /// Answers with a body that is not JSON.
    case garbage
    /// Answers 200 with exactly these bytes (`text/event-stream` for stream requests, else
    /// JSON), as a hostile or broken provider might: escaped keys, hand-made events.
    case raw(String)
    /// Streams exactly these content pieces, one event each (whole requests get them joined).
    case pieces([String])
    /// Calls these tools (in parallel when there are several), after `text` if given; tool
    /// arguments stream in several deltas. A request whose last message is a tool result
    /// gets a plain answer quoting it instead, so tool loops end.
    case toolCalls([FakeToolCall], text: String? = nil)
    /// Answers normally and reports this much of the prompt as read from / written to the
    /// provider's prompt cache (OpenAI only reports reads).
    case promptCache(readTokens: Int, writeTokens: Int)
    /// Streams `afterChunks` content chunks, then reports an error inside the stream (Anthropic
    /// `event: error` with `overloaded_error`, OpenAI a `data: {"error":…}` chunk) and ends.
    /// `echoingKey`: the error message quotes the API key the request was made with, as a
    /// careless provider might.
    case streamError(afterChunks: Int, echoingKey: Bool = false)

    /// Holds each request until the test opens `gate`, then answers normally.
    case held(ProviderGate)
    /// One behavior per request, in order; the last one stays for every later request.
    indirect case sequence([Behavior])

    /// Anthropic's 529 `overloaded_error` (an OpenAI request gets the same status and body type).
    public static var overloaded: Behavior { .error(status: 529, type: "overloaded_error", code: nil, message: "Overloaded") }
}

/// A gate a test holds requests at: each request held by `.held(gate)` waits in the provider
/// until the test opens the gate, so a test can keep requests in flight for exactly as long
/// as it needs, whatever the machine's speed, instead of guessing with a delay.
public final class ProviderGate: Sendable {
    private struct State {
        var open = false
        var arrivals = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Requests that reached the gate so far.
    public var arrivals: Int { self.state.withLock { $0.arrivals } }

    /// Lets every held request, and every later one, through.
    public func open() {
        let resumed = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Returns once `count` requests have reached the gate.
    public func waitForArrivals(_ count: Int = 1) async {
        await withCheckedContinuation { continuation in
            let ready = self.state.withLock { state -> Bool in
                guard state.arrivals < count else { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Called by the provider for a held request: returns when the gate is open.
    func pass() async {
        await withCheckedContinuation { continuation in
            let (proceed, reached) = self.state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                state.arrivals += 1
                let arrivals = state.arrivals
                let reached = state.watchers.filter { $0.count <= arrivals }.map(\.continuation)
                state.watchers.removeAll { $0.count <= arrivals }
                if state.open { return (true, reached) }
                state.waiting.append(continuation)
                return (false, reached)
            }
            for watcher in reached { watcher.resume() }
            if proceed { continuation.resume() }
        }
    }
}

/// A tool call the fake provider makes: the function name and its arguments as JSON text.
public struct FakeToolCall: Sendable {
    public var name: String
    public var arguments: String

    public init(name: String, arguments: String) {
        self.name = name
        self.arguments = arguments
    }
}

/// Hands the provider object to route handlers once its port is known.
final class ProviderSlot: Sendable {
    private let slot = Mutex<FakeProvider?>(nil)

    func set(_ provider: FakeProvider) { self.slot.withLock { $0 = provider } }
    func get() -> FakeProvider { self.slot.withLock { $0! } }
}
