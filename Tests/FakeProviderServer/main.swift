import Foundation
import TollgateTestSupport

// A stand-alone fake provider for the SDK integration script and local experiments.
// Prints `port=<n>` once listening; runs until SIGTERM/SIGINT.
//
// A client cannot script this process, so a few reserved model names behave as named (on the
// OpenAI and the Anthropic endpoints alike); every other model answers normally. The
// `sdk-openai-*` / `sdk-anthropic-*` prefixes say which provider the integration script's
// config maps them to (scripts/integration/run.sh).
let reservedModels: [String: Behavior] = [
    // Always fail before answering: a route of only these ends in its template.
    "sdk-openai-down-503": .error(status: 503, type: "server_error", code: nil, message: "The server is overloaded or not ready yet."),
    "sdk-anthropic-down-500": .error(status: 500, type: "api_error", code: nil, message: "Internal server error"),
    // Stream four content events (for Anthropic: block start, ping, two text deltas, so text
    // has been relayed), then fail: an in-stream error event, or a connection cut mid-body.
    "sdk-openai-stream-error": .streamError(afterChunks: 4),
    "sdk-anthropic-stream-error": .streamError(afterChunks: 4),
    "sdk-openai-stream-cut": .cutStream(afterChunks: 4),
    "sdk-anthropic-stream-cut": .cutStream(afterChunks: 4),
]

let apiKey = ProcessInfo.processInfo.environment["FAKE_PROVIDER_KEY"] ?? "sk-fake-provider-key-0123456789"
let requestedPort = Int(ProcessInfo.processInfo.environment["FAKE_PROVIDER_PORT"] ?? "") ?? 0
try await FakeProvider.serve(apiKey: apiKey, port: requestedPort, behaviors: reservedModels) { port in
    FileHandle.standardOutput.write(Data("port=\(port)\n".utf8))
}
