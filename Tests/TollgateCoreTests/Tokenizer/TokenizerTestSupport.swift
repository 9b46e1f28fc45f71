import Foundation
import Testing
import TollgateCore

/// The rank files and the tiktoken fixture shared by the tokenizer tests.
enum TokenizerTestSupport {
    /// `<repo>/models/tokenizers`, resolved from this file's path, or `TOLLGATE_TEST_TOKENIZER_DIR`.
    static let directory: String = {
        if let override = ProcessInfo.processInfo.environment["TOLLGATE_TEST_TOKENIZER_DIR"] { return override }
        let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.appendingPathComponent(Tokenizers.defaultDirectory).path
    }()

    /// Both encodings, loaded once for all tests; a failed expectation telling how to install
    /// the rank files when they are missing (tests fail, not skip: scripts/test.sh fetches them).
    static func tokenizers(sourceLocation: SourceLocation = #_sourceLocation) throws -> Tokenizers {
        for encoding in TokenEncoding.allCases {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(encoding.fileName).path
            try #require(
                FileManager.default.fileExists(atPath: path),
                "tokenizer rank file not found at \(path): run \(Tokenizers.setupCommand) first",
                sourceLocation: sourceLocation
            )
        }
        return try Tokenizers.shared(directory: directory)
    }

    struct Fixture: Decodable {
        struct Case: Decodable {
            var text: String
            var o200kBase: [Int]
            var cl100kBase: [Int]

            enum CodingKeys: String, CodingKey {
                case text
                case o200kBase = "o200k_base"
                case cl100kBase = "cl100k_base"
            }

            func expected(_ encoding: TokenEncoding) -> [Int] {
                switch encoding {
                case .o200kBase: self.o200kBase
                case .cl100kBase: self.cl100kBase
                }
            }
        }

        struct Chat: Decodable {
            var request: ChatCompletionRequest
            var encoding: String
            var tokens: Int
        }

        var tiktoken: String
        var cases: [Case]
        var chats: [Chat]
    }

    /// `Fixtures/tokenizer-cases.json` (from scripts/tokenizer_reference.py), or the file
    /// `TOLLGATE_TOKENIZER_FIXTURE` names (a larger random run kept outside the repository).
    static let fixture: Result<Fixture, any Error> = Result {
        let url: URL
        if let override = ProcessInfo.processInfo.environment["TOLLGATE_TOKENIZER_FIXTURE"] {
            url = URL(fileURLWithPath: override)
        } else {
            guard let bundled = Bundle.module.url(forResource: "tokenizer-cases", withExtension: "json", subdirectory: "Fixtures") else {
                throw CocoaError(.fileNoSuchFile)
            }
            url = bundled
        }
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }
}
