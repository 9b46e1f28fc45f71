/// A WordPiece vocabulary: token strings and their ids.
struct Vocabulary: Sendable {
    /// Token by id.
    let tokens: [String]
    private let ids: [String: Int32]
    /// Longest token in Unicode scalars, ignoring the continuation prefix: bounds the greedy search.
    let longestToken: Int

    /// Builds the vocabulary from tokens in id order; a repeated token keeps its last id,
    /// as `vocab.txt` loading does in `tokenizers`.
    init(tokens: [String], continuingSubwordPrefix: String = "##") {
        self.init(ids: Dictionary(tokens.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { $1 }),
                  continuingSubwordPrefix: continuingSubwordPrefix)
    }

    /// Builds the vocabulary from a token -> id map (as in `tokenizer.json`).
    init(ids: [String: Int32], continuingSubwordPrefix: String = "##") {
        self.ids = ids
        var tokens = [String](repeating: "", count: Int(ids.values.max() ?? -1) + 1)
        var longest = 0
        let prefixLength = continuingSubwordPrefix.unicodeScalars.count
        for (token, id) in ids {
            tokens[Int(id)] = token
            var length = token.unicodeScalars.count
            if token.hasPrefix(continuingSubwordPrefix) { length -= prefixLength }
            longest = max(longest, length)
        }
        self.tokens = tokens
        self.longestToken = longest
    }

    /// Parses `vocab.txt`: one token per line, the line number being the id.
    init(vocabText: String, continuingSubwordPrefix: String = "##") {
        var lines = vocabText.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.reversed().drop(while: { $0.isWhitespace }).reversed())
        }
        if lines.last == "" { lines.removeLast() }
        self.init(tokens: lines, continuingSubwordPrefix: continuingSubwordPrefix)
    }

    var count: Int { tokens.count }

    @inline(__always)
    func id(_ token: String) -> Int32? { ids[token] }
}
