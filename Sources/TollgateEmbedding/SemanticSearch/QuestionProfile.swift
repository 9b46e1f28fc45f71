import Foundation

/// What the semantic cache's guard keeps of one question besides its sentence vector: its token
/// vectors (fp16) and the words that most often tell two similar questions apart (numbers,
/// negations, content words), so that a candidate answer is checked against the question
/// without running the model again.
public struct QuestionProfile: Sendable, Equatable {
    /// Final hidden states of the question's word pieces, L2-normalised, `dimensions` per row.
    public var tokenVectors: [Float16]
    /// Hashes of the numbers in the question (`3`, `2024`, `1.5`, `hundred`), sorted, unique.
    public var numbers: [UInt64]
    /// Whether the question negates (`not`, `n't`, `never`, `no`, `without`...).
    public var negated: Bool
    /// Hashes of the question's content words (no stop words, light stemming), unique, in the
    /// order they first appear: `convert ethane to ethene` is not `convert ethene to ethane`.
    public var wordSequence: [UInt64]
    /// The same, sorted.
    public let words: [UInt64]

    public init(tokenVectors: [Float16], numbers: [UInt64], negated: Bool, wordSequence: [UInt64]) {
        self.tokenVectors = tokenVectors
        self.numbers = numbers
        self.negated = negated
        self.wordSequence = wordSequence
        self.words = wordSequence.sorted()
    }

    /// Profiles `text`, whose token vectors the embedder returned (``EmbeddingBatch/tokenVectors``).
    public init(text: String, tokenVectors: [Float]) {
        var numbers: Set<UInt64> = []
        var sequence: [UInt64] = []
        var seen: Set<UInt64> = []
        var negated = false
        for word in Self.words(of: text) {
            if word.first!.isNumber || Self.numberWords.contains(word) {
                numbers.insert(Self.hash(word))
            } else if Self.negations.contains(word) || word.hasSuffix("n't") {
                negated = true
            } else if !Self.stopWords.contains(word), word.count > 1 {
                let key = Self.hash(Self.stem(word))
                if seen.insert(key).inserted { sequence.append(key) }
            }
        }
        self.init(tokenVectors: tokenVectors.map { Float16($0) }, numbers: numbers.sorted(), negated: negated, wordSequence: sequence)
    }

    /// Bytes the profile holds.
    public var byteCount: Int { tokenVectors.count * 2 + (numbers.count + words.count * 2) * 8 + 1 }

    /// Lower-cased words: runs of letters, digits (with inner `.` or `,`) and apostrophes.
    static func words(of text: String) -> [Substring] {
        let lowered = text.lowercased().replacingOccurrences(of: "\u{2019}", with: "'")
        var result: [Substring] = []
        var start: String.Index?
        var index = lowered.startIndex
        while index < lowered.endIndex {
            let character = lowered[index]
            let next = lowered.index(after: index)
            let inner = (character == "." || character == "," || character == "'") && start != nil
                && next < lowered.endIndex && (lowered[next].isLetter || lowered[next].isNumber)
            if character.isLetter || character.isNumber || inner {
                if start == nil { start = index }
            } else if let begin = start {
                result.append(lowered[begin..<index])
                start = nil
            }
            index = next
        }
        if let begin = start { result.append(lowered[begin...]) }
        return result
    }

    /// Strips the commonest English inflections, so that `book` and `books` agree.
    static func stem(_ word: Substring) -> Substring {
        for suffix in ["'s", "ing", "ies", "ed", "es", "s"] where word.count > suffix.count + 2 && word.hasSuffix(suffix) {
            return word.dropLast(suffix.count)
        }
        return word
    }

    /// FNV-1a: stable across processes, so snapshots of profiles stay valid.
    static func hash(_ word: Substring) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in word.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return value
    }

    static let numberWords: Set<Substring> = [
        "zero", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty", "thirty",
        "forty", "fifty", "hundred", "thousand", "million", "billion", "trillion", "half", "double", "triple", "first",
        "second", "third",
    ]

    static let negations: Set<Substring> = ["not", "no", "never", "nor", "none", "nothing", "without", "cannot", "neither", "nobody"]

    static let stopWords: Set<Substring> = [
        "a", "an", "the", "and", "or", "but", "if", "of", "at", "by", "for", "with", "about", "to", "from", "in", "on",
        "into", "over", "under", "up", "down", "out", "off", "is", "are", "was", "were", "be", "been", "being", "am",
        "do", "does", "did", "doing", "have", "has", "had", "having", "i", "me", "my", "we", "our", "you", "your", "he",
        "him", "his", "she", "her", "it", "its", "they", "them", "their", "this", "that", "these", "those", "what",
        "which", "who", "whom", "whose", "when", "where", "why", "how", "can", "could", "should", "would", "will",
        "shall", "may", "might", "must", "there", "here", "some", "any", "all", "each", "every", "so", "than", "too",
        "very", "just", "also", "as", "such", "own", "same", "other", "more", "most", "much", "many", "get", "got",
        "one", "i'm", "it's", "i've", "best", "good", "way", "ways", "really", "actually", "like", "thing", "things",
        "someone", "something", "anyone", "people", "person", "know", "make", "use", "possible", "better",
    ]
}
