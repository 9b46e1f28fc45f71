import Foundation
import TollgateTestSupport

// A stand-alone fake provider for the SDK integration script and local experiments.
// Prints `port=<n>` once listening; runs until SIGTERM/SIGINT.
let apiKey = ProcessInfo.processInfo.environment["FAKE_PROVIDER_KEY"] ?? "sk-fake-provider-key-0123456789"
let requestedPort = Int(ProcessInfo.processInfo.environment["FAKE_PROVIDER_PORT"] ?? "") ?? 0
try await FakeProvider.serve(apiKey: apiKey, port: requestedPort) { port in
    FileHandle.standardOutput.write(Data("port=\(port)\n".utf8))
}
