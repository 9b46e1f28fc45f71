import Foundation

/// BERT's WordPiece tokenizer, matching the Hugging Face `tokenizers` pipeline of a BERT
/// `tokenizer.json` token for token:
///
/// 1. special tokens written in the text (`[CLS]`, `[SEP]`, `[MASK]`, ...) are split out first;
/// 2. clean-up drops control characters and turns whitespace into spaces;
/// 3. CJK ideographs become words of their own;
/// 4. accents are stripped (NFD, then nonspacing marks removed) and text is lower-cased;
/// 5. words are split at whitespace and punctuation;
/// 6. each word is split greedily into the longest vocabulary pieces (`##` marks a
///    continuation); a word longer than 100 characters, or one with no split, is `[UNK]`.
///
/// ``encode(_:maxTokens:)`` adds `[CLS]` and `[SEP]` and truncates to the model's maximum.
public struct WordPieceTokenizer: Sendable {
    /// Switches of the normaliser and WordPiece model (`tokenizer.json` names in comments).
    public struct Options: Sendable, Equatable {
        /// `normalizer.lowercase`
        public var lowercase = true
        /// `normalizer.strip_accents`; `nil` follows `lowercase`, as in BERT.
        public var stripAccents: Bool? = nil
        /// `normalizer.handle_chinese_chars`
        public var handleChineseChars = true
        /// `normalizer.clean_text`
        public var cleanText = true
        /// `model.max_input_chars_per_word`
        public var maxInputCharsPerWord = 100
        /// `model.continuing_subword_prefix`
        public var continuingSubwordPrefix = "##"
        /// `model.unk_token`
        public var unknownToken = "[UNK]"
        public var classifierToken = "[CLS]"
        public var separatorToken = "[SEP]"
        public var paddingToken = "[PAD]"

        public init() {}
    }

    public let options: Options
    let vocabulary: Vocabulary
    /// Id of `[CLS]`, `[SEP]`, `[UNK]` and `[PAD]`.
    public let classifierID: Int32
    public let separatorID: Int32
    public let unknownID: Int32
    public let paddingID: Int32
    private let specialTokens: [(scalars: [Unicode.Scalar], id: Int32)]
    private let specialFirstScalars: Set<Unicode.Scalar>
    private let stripAccents: Bool

    /// Creates a tokenizer over `vocabulary` (tokens in id order).
    ///
    /// - Parameter specialTokens: literal tokens recognised in input text before normalisation
    ///   (`tokenizer.json` `added_tokens`); defaults to the five BERT specials found in the vocabulary.
    public init(vocabulary tokens: [String], options: Options = Options(), specialTokens: [String]? = nil) throws {
        try self.init(
            vocabulary: Vocabulary(tokens: tokens, continuingSubwordPrefix: options.continuingSubwordPrefix),
            options: options,
            specialTokens: specialTokens
        )
    }

    init(vocabulary: Vocabulary, options: Options, specialTokens: [String]?) throws {
        func required(_ token: String) throws -> Int32 {
            guard let id = vocabulary.id(token) else {
                throw EmbeddingError(.invalidModel, "tokenizer vocabulary has no '\(token)' token")
            }
            return id
        }
        self.vocabulary = vocabulary
        self.options = options
        self.classifierID = try required(options.classifierToken)
        self.separatorID = try required(options.separatorToken)
        self.unknownID = try required(options.unknownToken)
        self.paddingID = vocabulary.id(options.paddingToken) ?? 0
        self.stripAccents = options.stripAccents ?? options.lowercase
        let literals = specialTokens ?? [options.paddingToken, options.unknownToken, options.classifierToken,
                                         options.separatorToken, "[MASK]"]
        let specials = literals.compactMap { token -> (scalars: [Unicode.Scalar], id: Int32)? in
            guard !token.isEmpty, let id = vocabulary.id(token) else { return nil }
            return (Array(token.unicodeScalars), id)
        }
        // Longest first, so that the first match at a position is the leftmost-longest one.
        self.specialTokens = specials.sorted { $0.scalars.count > $1.scalars.count }
        self.specialFirstScalars = Set(specials.map { $0.scalars[0] })
    }

    /// Size of the vocabulary.
    public var vocabularySize: Int { vocabulary.count }

    /// The token string of `id` (for diagnostics).
    public func token(for id: Int32) -> String? {
        vocabulary.tokens.indices.contains(Int(id)) ? vocabulary.tokens[Int(id)] : nil
    }

    // MARK: Encoding

    /// Token ids of `text` as the model sees them: `[CLS]`, at most `maxTokens - 2` pieces, `[SEP]`.
    public func encode(_ text: String, maxTokens: Int) -> [Int32] {
        precondition(maxTokens >= 2, "maxTokens must leave room for [CLS] and [SEP]")
        var ids: [Int32] = [classifierID]
        ids.reserveCapacity(min(maxTokens, text.utf8.count + 2))
        appendPieces(of: text, limit: maxTokens - 1, to: &ids)
        ids.append(separatorID)
        return ids
    }

    /// The word pieces of `text` without `[CLS]`/`[SEP]` and without truncation.
    public func tokenize(_ text: String) -> [String] {
        var ids: [Int32] = []
        appendPieces(of: text, limit: .max, to: &ids)
        return ids.map { vocabulary.tokens[Int($0)] }
    }

    /// Appends piece ids of `text` to `ids` until `ids.count` reaches `limit`.
    ///
    /// Work is done one whitespace-delimited chunk at a time (normalisation never combines
    /// across whitespace), so truncation stops reading a long input early.
    private func appendPieces(of text: String, limit: Int, to ids: inout [Int32]) {
        var chunk: [Unicode.Scalar] = []
        var scratch = Scratch()
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex, ids.count < limit {
            let c = scalars[index]
            if specialFirstScalars.contains(c), let (id, end) = matchSpecialToken(in: scalars, at: index) {
                appendChunk(&chunk, limit: limit, to: &ids, scratch: &scratch)
                if ids.count < limit { ids.append(id) }
                index = end
                continue
            }
            index = scalars.index(after: index)
            if options.cleanText, BertCharacters.isRemovedByCleanup(c) { continue }
            if BertCharacters.isWhitespace(c) {
                appendChunk(&chunk, limit: limit, to: &ids, scratch: &scratch)
            } else if options.handleChineseChars, BertCharacters.isCJKIdeograph(c) {
                appendChunk(&chunk, limit: limit, to: &ids, scratch: &scratch)
                chunk.append(c)
                appendChunk(&chunk, limit: limit, to: &ids, scratch: &scratch)
            } else {
                chunk.append(c)
            }
        }
        appendChunk(&chunk, limit: limit, to: &ids, scratch: &scratch)
        if ids.count > limit { ids.removeLast(ids.count - limit) }
    }

    private func matchSpecialToken(
        in scalars: String.UnicodeScalarView, at start: String.UnicodeScalarView.Index
    ) -> (Int32, String.UnicodeScalarView.Index)? {
        candidates: for special in specialTokens {
            var index = start
            for expected in special.scalars {
                guard index < scalars.endIndex, scalars[index] == expected else { continue candidates }
                index = scalars.index(after: index)
            }
            return (special.id, index)
        }
        return nil
    }

    /// Reused buffers of one encode call.
    private struct Scratch {
        var normalized: [Unicode.Scalar] = []
        var pieces: [Int32] = []
        var key = ""
    }

    /// Normalises one chunk (text between whitespace), splits it at punctuation and appends
    /// the pieces of each word. Empties `chunk`.
    private func appendChunk(_ chunk: inout [Unicode.Scalar], limit: Int, to ids: inout [Int32], scratch: inout Scratch) {
        guard !chunk.isEmpty else { return }
        defer { chunk.removeAll(keepingCapacity: true) }
        guard ids.count < limit else { return }

        var normalized = scratch.normalized
        normalized.removeAll(keepingCapacity: true)
        let ascii = chunk.allSatisfy(\.isASCII)
        if stripAccents, !ascii {
            var string = String()
            string.unicodeScalars.append(contentsOf: chunk)
            for c in string.decomposedStringWithCanonicalMapping.unicodeScalars
            where !BertCharacters.isNonspacingMark(c) {
                appendLowercased(c, to: &normalized)
            }
        } else {
            for c in chunk { appendLowercased(c, to: &normalized) }
        }

        var wordStart = 0
        for (position, c) in normalized.enumerated() {
            let whitespace = BertCharacters.isWhitespace(c)
            guard whitespace || BertCharacters.isPunctuation(c) else { continue }
            appendWord(normalized[wordStart..<position], to: &ids, scratch: &scratch)
            if !whitespace { appendWord(normalized[position..<position + 1], to: &ids, scratch: &scratch) }
            wordStart = position + 1
        }
        appendWord(normalized[wordStart...], to: &ids, scratch: &scratch)
        scratch.normalized = normalized
    }

    @inline(__always)
    private func appendLowercased(_ c: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        guard options.lowercase else { return out.append(c) }
        if c.isASCII {
            let v = c.value
            out.append((v >= 65 && v <= 90) ? Unicode.Scalar(UInt8(v + 32)) : c)
        } else if c.properties.changesWhenLowercased {
            out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
        } else {
            out.append(c)
        }
    }

    /// Greedy longest-match-first WordPiece of one word.
    private func appendWord(_ word: ArraySlice<Unicode.Scalar>, to ids: inout [Int32], scratch: inout Scratch) {
        guard !word.isEmpty else { return }
        guard word.count <= options.maxInputCharsPerWord else { return ids.append(unknownID) }
        var pieces = scratch.pieces
        var key = scratch.key
        defer {
            scratch.pieces = pieces
            scratch.key = key
        }
        pieces.removeAll(keepingCapacity: true)
        var start = word.startIndex
        while start < word.endIndex {
            var end = min(word.endIndex, start + vocabulary.longestToken)
            var found: Int32?
            while end > start {
                key.removeAll(keepingCapacity: true)
                if start > word.startIndex { key += options.continuingSubwordPrefix }
                key.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary.id(key) {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { return ids.append(unknownID) }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }
}
