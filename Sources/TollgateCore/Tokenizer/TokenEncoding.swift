/// A tiktoken encoding Tollgate can count tokens with.
public enum TokenEncoding: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// GPT-4o, GPT-4.1, GPT-5 and the o-series reasoning models.
    case o200kBase = "o200k_base"
    /// GPT-4 and GPT-3.5 Turbo (and the `text-embedding-3` / `ada-002` embedding models).
    case cl100kBase = "cl100k_base"

    /// The rank file's name in the tokenizer directory.
    public var fileName: String { "\(self.rawValue).tiktoken" }

    public var description: String { self.rawValue }

    var splitPattern: SplitPattern {
        switch self {
        case .o200kBase: .o200k
        case .cl100kBase: .cl100k
        }
    }

    /// The encoding that `model` counts tokens with. A provider prefix (`openai/gpt-4o`) and a
    /// fine-tune prefix (`ft:gpt-4o-mini:...`) are ignored.
    ///
    /// Models OpenAI does not document (Anthropic's `claude-*`, Google's, open models, aliases
    /// such as `auto`) get o200k_base as an approximation: their own tokenizers are not public
    /// or not bundled, and o200k_base is the closest modern byte-level BPE. Expect counts within
    /// roughly ±20% for English text with those models.
    public static func forModel(_ model: String) -> TokenEncoding {
        var name = Substring(model.lowercased())
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        if name.hasPrefix("ft:") { name = name.dropFirst(3) }
        for prefix in Self.o200kPrefixes where name.hasPrefix(prefix) { return .o200kBase }
        for prefix in Self.cl100kPrefixes where name.hasPrefix(prefix) { return .cl100kBase }
        return .o200kBase
    }

    /// Checked first, so that `gpt-4o` is not taken for `gpt-4`.
    private static let o200kPrefixes = [
        "gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "o1", "o3", "o4", "codex-",
    ]
    private static let cl100kPrefixes = [
        "gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002",
    ]
}
