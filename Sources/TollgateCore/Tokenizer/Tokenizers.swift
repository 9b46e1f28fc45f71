import Foundation
import Synchronization

/// The token counters the gateway uses, one per encoding, loaded once from a directory of
/// tiktoken rank files (`o200k_base.tiktoken`, `cl100k_base.tiktoken`) that
/// ``setupCommand`` fills.
public struct Tokenizers: Sendable {
    /// The command that fetches the rank files into ``defaultDirectory``.
    public static let setupCommand = "scripts/setup-tokenizer.sh"
    /// The directory the set-up command fills, relative to the repository root.
    public static let defaultDirectory = "models/tokenizers"

    public let o200kBase: TokenCounter
    public let cl100kBase: TokenCounter

    /// Loads both encodings' rank files from `directory`.
    /// - Throws: ``TokenizerError`` naming the missing or malformed file.
    public init(directory: String = Tokenizers.defaultDirectory) throws(TokenizerError) {
        let base = URL(fileURLWithPath: directory)
        self.o200kBase = try TokenCounter(
            encoding: .o200kBase, rankFile: base.appendingPathComponent(TokenEncoding.o200kBase.fileName).path
        )
        self.cl100kBase = try TokenCounter(
            encoding: .cl100kBase, rankFile: base.appendingPathComponent(TokenEncoding.cl100kBase.fileName).path
        )
    }

    /// The tokenizers of `directory`, loaded on the first call for that directory and shared
    /// by every later one in the process (loading both encodings takes a noticeable fraction
    /// of a second and about 15 MB).
    public static func shared(directory: String = Tokenizers.defaultDirectory) throws(TokenizerError) -> Tokenizers {
        let key = URL(fileURLWithPath: directory).standardizedFileURL.path
        return try Self.cache.withLock { (loaded) throws(TokenizerError) -> Tokenizers in
            if let tokenizers = loaded[key] { return tokenizers }
            let tokenizers = try Tokenizers(directory: key)
            loaded[key] = tokenizers
            return tokenizers
        }
    }

    private static let cache = Mutex<[String: Tokenizers]>([:])

    /// The counter for `encoding`.
    public func counter(for encoding: TokenEncoding) -> TokenCounter {
        switch encoding {
        case .o200kBase: self.o200kBase
        case .cl100kBase: self.cl100kBase
        }
    }

    /// The counter for `model` (see ``TokenEncoding/forModel(_:)``: unknown models, Anthropic's
    /// included, get o200k_base as an approximation).
    public func counter(forModel model: String) -> TokenCounter {
        self.counter(for: TokenEncoding.forModel(model))
    }
}
