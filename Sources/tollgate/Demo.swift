import ArgumentParser
import Foundation
import TollgateCore
import TollgateServer

/// `tollgate demo`: see `DemoTour`.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a gateway in front of a simulated provider, send a short scripted day of traffic and print the cost report.",
        discussion: "Needs no provider account and no network; uses a temporary directory it removes. Exit 1 when a step does not show what it should."
    )

    func run() async throws {
        // The semantic cache step runs where the embedding model is installed (./models).
        let modelDirectory = URL(fileURLWithPath: EmbeddingsConfig().modelDirectory).path
        let tour = DemoTour(modelDirectory: modelDirectory) { line in print(line) }
        let passed: Bool
        do {
            passed = try await tour.run()
        } catch {
            throw CommandFailure.runtime("demo: \(error)")
        }
        guard passed else { throw CommandFailure.runtime("demo: some steps did not show what they should (see above)") }
    }
}
