import Testing
@testable import TollgateEmbedding

/// Tokenizer behaviour on a tiny vocabulary (no model needed); agreement with the real
/// vocabulary on tricky inputs is in `GoldenModelTests`.
@Suite struct WordPieceTokenizerTests {
    static let vocabulary = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "un", "##believ", "##ab", "##able", "##ly",
        "cafe", "!", ",", "[", "]", "中", "国", "的", "a", "##a", "σ", "##οσ", "x", "##y", "#", "$", "5", "@",
    ]
    let tokenizer = try! WordPieceTokenizer(vocabulary: Self.vocabulary)

    @Test(arguments: [
        ("Hello, World!", ["hello", ",", "world", "!"]),
        ("unbelievably", ["un", "##believ", "##ab", "##ly"]),
        ("Café CAFÉ cafe\u{301}", ["cafe", "cafe", "cafe"]),
        ("中国的hello", ["中", "国", "的", "hello"]),
        ("xyz", ["[UNK]"]),
        ("unx hello", ["[UNK]", "hello"]),
        ("hel\u{0}lo wor\u{200B}ld x\u{AD}y \u{E000}", ["hello", "world", "x", "##y"]),
        ("hello\u{3000}world\u{A0}hello\tworld\r\nhello", ["hello", "world", "hello", "world", "hello"]),
        ("hello\u{85}world", ["[UNK]"]),
        ("$5#@", ["$", "5", "#", "@"]),
        ("ΣΟΣ", ["σ", "##οσ"]),
        ("hello[SEP]world [MASK]", ["hello", "[SEP]", "world", "[MASK]"]),
        ("[sep]", ["[", "[UNK]", "]"]),
        ("   ", []),
        ("\u{301}", []),
    ])
    func tokenizes(_ text: String, _ expected: [String]) {
        #expect(tokenizer.tokenize(text) == expected)
    }

    @Test func overLongWordsAreUnknown() {
        #expect(tokenizer.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])
        let hundred = tokenizer.tokenize(String(repeating: "a", count: 100))
        #expect(hundred == ["a"] + Array(repeating: "##a", count: 99))
    }

    @Test func encodeAddsSpecialTokensAndTruncates() {
        #expect(tokenizer.encode("", maxTokens: 8) == [2, 3])
        #expect(tokenizer.encode("hello world", maxTokens: 8) == [2, 5, 6, 3])
        #expect(tokenizer.encode("hello world hello", maxTokens: 4) == [2, 5, 6, 3])
        #expect(tokenizer.encode("unbelievably", maxTokens: 4) == [2, 7, 8, 3])
        #expect(tokenizer.encode("hello", maxTokens: 2) == [2, 3])
    }

    @Test func casedOptionsKeepCaseAndAccents() throws {
        var options = WordPieceTokenizer.Options()
        options.lowercase = false
        let cased = try WordPieceTokenizer(vocabulary: Self.vocabulary + ["Hello", "café"], options: options)
        #expect(cased.tokenize("Hello hello café") == ["Hello", "hello", "café"])
    }

    @Test func missingSpecialTokensAreAnError() {
        #expect(throws: EmbeddingError.self) { try WordPieceTokenizer(vocabulary: ["hello", "[UNK]"]) }
    }
}
