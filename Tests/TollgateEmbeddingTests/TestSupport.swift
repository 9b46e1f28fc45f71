import Foundation
import Synchronization
import Testing
@testable import TollgateEmbedding

/// Fixtures and the model directory shared by the tests.
enum TestSupport {
    /// `<repo>/models/all-MiniLM-L6-v2`, resolved from this file's path (symlinks followed), or
    /// `TOLLGATE_TEST_MODEL_DIR`.
    static let modelDirectory: String = {
        if let override = ProcessInfo.processInfo.environment["TOLLGATE_TEST_MODEL_DIR"] { return override }
        let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.appendingPathComponent(LocalEmbedder.defaultModelDirectory).path
    }()

    /// The model directory, or a failed expectation telling how to install it. Tests that need
    /// the real model fail (not skip) without it: CI runs the set-up script first.
    static func requireModel(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let weights = URL(fileURLWithPath: modelDirectory).appendingPathComponent("model.safetensors").path
        try #require(
            FileManager.default.fileExists(atPath: weights),
            "model not found at \(modelDirectory): run scripts/setup-model.sh first",
            sourceLocation: sourceLocation
        )
        return modelDirectory
    }

    /// One embedder for all tests that need the model (loading maps ~90 MB once).
    static func embedder(sourceLocation: SourceLocation = #_sourceLocation) throws -> LocalEmbedder {
        let directory = try requireModel(sourceLocation: sourceLocation)
        return try shared.get(directory)
    }

    private static let shared = SharedEmbedder()

    final class SharedEmbedder: Sendable {
        private let state = Mutex<LocalEmbedder?>(nil)
        func get(_ directory: String) throws -> LocalEmbedder {
            try state.withLock { value in
                if let value { return value }
                let embedder = try LocalEmbedder(modelDirectory: directory, threads: 2)
                value = embedder
                return embedder
            }
        }
    }

    static func fixture(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    }

    struct Golden: Decodable {
        struct Case: Decodable {
            var text: String
            var ids: [Int32]
            var embedding: [Float]
        }

        var model: String
        var maxTokens: Int
        var cases: [Case]
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: fixture("golden-minilm.json")))
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }
}
