/// Counts and encodes text with a tiktoken BPE encoding, exactly as OpenAI's `tiktoken` does
/// (`encode_ordinary`): the text is split by the encoding's pattern, then each piece is
/// byte-pair merged by rank.
///
/// Special tokens such as `<|endoftext|>` in the text are encoded as ordinary text, as the
/// API does for prompts. Load once and share: it is immutable and `Sendable`; counting
/// allocates a few scratch arrays per call and never locks.
public final class TokenCounter: Sendable {
    public let encoding: TokenEncoding
    let ranks: BPERanks

    /// Loads the rank file of `encoding` (`<base64 token> <rank>` lines).
    /// - Throws: ``TokenizerError`` naming the file when it is missing or malformed.
    public convenience init(encoding: TokenEncoding, rankFile path: String) throws(TokenizerError) {
        self.init(encoding: encoding, ranks: try BPERanks.load(path: path))
    }

    /// Parses rank-file contents already in memory; `name` only labels errors.
    public convenience init(encoding: TokenEncoding, rankFileContents contents: [UInt8], name: String = "<memory>") throws(TokenizerError) {
        self.init(encoding: encoding, ranks: try BPERanks.parse(contents, path: name))
    }

    init(encoding: TokenEncoding, ranks: BPERanks) {
        self.encoding = encoding
        self.ranks = ranks
    }

    /// The number of mergeable tokens the encoding has (special tokens excluded).
    public var vocabularySize: Int { self.ranks.count }

    /// The number of tokens `text` encodes to.
    public func count(_ text: String) -> Int {
        var tally = TokenTally()
        self.encode(text, into: &tally)
        return tally.count
    }

    /// The token ids of `text`.
    public func encode(_ text: String) -> [Int] {
        var ids = TokenIDs()
        ids.ids.reserveCapacity(text.utf8.count / 3 + 1)
        self.encode(text, into: &ids)
        return ids.ids
    }

    /// The text of `tokens`; bytes that do not form valid UTF-8 (a token sequence cut inside a
    /// character) become U+FFFD. Unknown ids are skipped.
    public func decode(_ tokens: [Int]) -> String {
        var bytes: [UInt8] = []
        for token in tokens {
            if let piece = self.ranks.bytes(of: token) { bytes.append(contentsOf: piece) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Encoding

    func encode<Sink: TokenSink>(_ text: String, into sink: inout Sink) {
        var text = text
        text.withUTF8 { utf8 in
            guard !utf8.isEmpty else { return }
            // One class per scalar, and where each scalar starts in `utf8` (plus the end).
            let (classes, starts) = ScalarClass.classify(utf8)

            var scratch = BPEScratch()
            let pattern = self.encoding.splitPattern
            classes.withUnsafeBufferPointer { classes in
                starts.withUnsafeBufferPointer { starts in
                    var i = 0
                    while i < classes.count {
                        let end = pattern.pieceEnd(classes, from: i)
                        let piece = UnsafeBufferPointer(rebasing: utf8[Int(starts[i])..<Int(starts[end])])
                        self.encodePiece(piece, scratch: &scratch, into: &sink)
                        i = end
                    }
                }
            }
        }
    }

    /// One piece: a whole token when the vocabulary has it, else merged pair by pair.
    @inline(__always)
    private func encodePiece<Sink: TokenSink>(_ piece: UnsafeBufferPointer<UInt8>, scratch: inout BPEScratch, into sink: inout Sink) {
        let whole = self.ranks.rank(of: piece)
        if whole != BPERanks.none {
            sink.append(whole)
            return
        }
        self.ranks.bytePairMerge(piece, scratch: &scratch)
        let parts = scratch.parts
        if Sink.needsTokens {
            for index in 0..<(parts.count - 1) {
                let token = UnsafeBufferPointer(rebasing: piece[Int(parts[index].start)..<Int(parts[index + 1].start)])
                sink.append(self.ranks.rank(of: token))
            }
        } else {
            sink.add(count: parts.count - 1)
        }
    }
}

/// Where encoding puts its tokens: ids for `encode`, a number for `count`.
protocol TokenSink {
    /// False when only the number of tokens matters (merged parts are then not looked up).
    static var needsTokens: Bool { get }
    mutating func append(_ token: UInt32)
    mutating func add(count: Int)
}

struct TokenIDs: TokenSink {
    var ids: [Int] = []
    static var needsTokens: Bool { true }
    mutating func append(_ token: UInt32) { self.ids.append(Int(token)) }
    mutating func add(count: Int) {}
}

struct TokenTally: TokenSink {
    var count = 0
    static var needsTokens: Bool { false }
    mutating func append(_ token: UInt32) { self.count += 1 }
    mutating func add(count: Int) { self.count += count }
}
