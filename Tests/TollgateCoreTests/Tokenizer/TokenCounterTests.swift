import Foundation
import Testing
import TollgateCore

@Suite("BPE token counter against tiktoken")
struct TokenCounterTests {
    @Test("encode gives tiktoken's ids for every fixture text", arguments: TokenEncoding.allCases)
    func matchesTiktoken(encoding: TokenEncoding) throws {
        let counter = try TokenizerTestSupport.tokenizers().counter(for: encoding)
        let fixture = try TokenizerTestSupport.fixture.get()
        #expect(fixture.cases.count > 400 || ProcessInfo.processInfo.environment["TOLLGATE_TOKENIZER_FIXTURE"] != nil)
        var mismatches = 0
        for item in fixture.cases {
            let ids = counter.encode(item.text)
            let expected = item.expected(encoding)
            if ids != expected {
                mismatches += 1
                if mismatches <= 10 {
                    Issue.record("\(encoding) \(String(reflecting: item.text)): got \(ids), tiktoken \(expected)")
                }
            }
            #expect(counter.count(item.text) == expected.count, "\(encoding) count of \(String(reflecting: item.text))")
        }
        #expect(mismatches == 0, "\(mismatches) of \(fixture.cases.count) texts differ from tiktoken \(fixture.tiktoken)")
    }

    @Test("decode gives back the text", arguments: TokenEncoding.allCases)
    func roundTrips(encoding: TokenEncoding) throws {
        let counter = try TokenizerTestSupport.tokenizers().counter(for: encoding)
        for item in try TokenizerTestSupport.fixture.get().cases {
            #expect(counter.decode(counter.encode(item.text)) == item.text)
        }
    }

    @Test("special tokens in the text are ordinary text")
    func specialTokensAreText() throws {
        let tokenizers = try TokenizerTestSupport.tokenizers()
        // The special token ids themselves never appear.
        #expect(!tokenizers.o200kBase.encode("<|endoftext|>").contains(199_999))
        #expect(!tokenizers.cl100kBase.encode("<|endoftext|>").contains(100_257))
        #expect(tokenizers.o200kBase.count("<|endoftext|>") > 1)
    }

    @Test("vocabulary sizes")
    func vocabularySizes() throws {
        let tokenizers = try TokenizerTestSupport.tokenizers()
        #expect(tokenizers.o200kBase.vocabularySize == 199_998)
        #expect(tokenizers.cl100kBase.vocabularySize == 100_256)
    }

    @Test("a long text without spaces merges as tiktoken does, and a long text is counted")
    func longInputs() throws {
        let counter = try TokenizerTestSupport.tokenizers().o200kBase
        let word = String(repeating: "ab", count: 200)
        let expected = try #require(TokenizerTestSupport.fixture.get().cases.first { $0.text == word })
        #expect(counter.encode(word) == expected.o200kBase)
        // Each sentence starts a new piece (" The"), so counts add up.
        let sentence = " The gateway counts tokens before it calls the provider."
        #expect(counter.count(String(repeating: sentence, count: 200)) == counter.count(sentence) * 200)
    }
}

@Suite("Tokenizer loading")
struct TokenizerLoadingTests {
    @Test("a missing directory names the file and the set-up command")
    func missingFile() {
        #expect {
            try Tokenizers(directory: "/nonexistent/tokenizers")
        } throws: { error in
            guard let error = error as? TokenizerError else { return false }
            return error.code == .rankFileNotFound
                && error.message.contains("/nonexistent/tokenizers/o200k_base.tiktoken")
                && error.message.contains(Tokenizers.setupCommand)
        }
    }

    @Test("malformed rank files are rejected with the line", arguments: [
        ("aGk= 0\n!!!! 1\n", "2"),
        ("aGk= zero\n", "1"),
        ("aGk=\n", "1"),
        ("aGk= 0\naGk= 1\n", "same bytes"),
        ("aGk= 0\naGs= 0\n", "appears twice"),
        ("aGk= 0\n", "byte 0 has no token"),
    ])
    func malformed(contents: String, fragment: String) {
        #expect {
            try TokenCounter(encoding: .o200kBase, rankFileContents: Array(contents.utf8), name: "test.tiktoken")
        } throws: { error in
            guard let error = error as? TokenizerError else { return false }
            return error.code == .invalidRankFile && error.message.contains("test.tiktoken") && error.message.contains(fragment)
        }
    }

    @Test("a tiny rank file merges by rank")
    func tinyVocabulary() throws {
        // Every byte, then "ab" (256) and "abc" (257); "bc" is no token.
        var lines = (0...255).map { "\(Data([UInt8($0)]).base64EncodedString()) \($0)" }
        lines.append("\(Data("ab".utf8).base64EncodedString()) 256")
        lines.append("\(Data("abc".utf8).base64EncodedString()) 257")
        let counter = try TokenCounter(encoding: .o200kBase, rankFileContents: Array((lines.joined(separator: "\n") + "\n").utf8))
        #expect(counter.encode("abc") == [257])
        #expect(counter.encode("abcab") == [257, 256])
        #expect(counter.encode("cab") == [99, 256])
        #expect(counter.encode("bca") == [98, 99, 97])
        #expect(counter.count("abc abc") == 3)  // "abc", then the piece " abc" as " " + "abc"
        #expect(counter.decode([257, 32, 256]) == "abc ab")
    }

    @Test("models map to their encodings")
    func modelEncodings() {
        for model in ["gpt-4o", "gpt-4o-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-mini", "o1", "o3-mini", "o4-mini", "openai/gpt-4o", "ft:gpt-4o-mini:acme::abc"] {
            #expect(TokenEncoding.forModel(model) == .o200kBase, "\(model)")
        }
        for model in ["gpt-4", "gpt-4-turbo", "gpt-4-0613", "gpt-3.5-turbo", "gpt-35-turbo", "text-embedding-3-small", "azure/gpt-4"] {
            #expect(TokenEncoding.forModel(model) == .cl100kBase, "\(model)")
        }
        for model in ["claude-sonnet-4-5", "claude-3-haiku", "auto", "mistral-large", ""] {
            #expect(TokenEncoding.forModel(model) == .o200kBase, "\(model)")
        }
    }
}
