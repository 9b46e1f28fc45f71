/// Why a tokenizer could not be loaded.
///
/// Match on ``code``; ``message`` names the file and, for a malformed file, the line.
public struct TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case rankFileNotFound, invalidRankFile
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A rank file is missing or unreadable: run the set-up script.
        public static let rankFileNotFound = Code(.rankFileNotFound)
        /// A rank file exists but is not a tiktoken rank file.
        public static let invalidRankFile = Code(.invalidRankFile)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// A one-line explanation for logs.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static func rankFileNotFound(_ path: String) -> TokenizerError {
        TokenizerError(
            .rankFileNotFound,
            "tokenizer rank file not found: '\(path)'. Run \(Tokenizers.setupCommand) to fetch "
                + "o200k_base and cl100k_base into \(Tokenizers.defaultDirectory)."
        )
    }

    /// `line` 0 when the problem is not on one line.
    static func invalidRankFile(_ path: String, line: Int, _ reason: String) -> TokenizerError {
        TokenizerError(.invalidRankFile, "\(path)\(line > 0 ? ":\(line)" : ""): invalid rank file: \(reason)")
    }
}
