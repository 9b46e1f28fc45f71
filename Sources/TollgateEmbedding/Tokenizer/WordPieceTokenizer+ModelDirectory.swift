import Foundation

extension WordPieceTokenizer {
    /// Loads the tokenizer of a sentence-transformers model directory.
    ///
    /// `tokenizer.json` is preferred (vocabulary, normaliser switches and special tokens, as the
    /// `tokenizers` package reads them); without it, `vocab.txt` with the switches of
    /// `tokenizer_config.json`.
    public init(modelDirectory: String) throws {
        let directory = URL(fileURLWithPath: modelDirectory, isDirectory: true)
        let tokenizerJSON = directory.appendingPathComponent("tokenizer.json")
        let vocabText = directory.appendingPathComponent("vocab.txt")
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: tokenizerJSON.path) {
            try self.init(tokenizerJSON: tokenizerJSON)
        } else if fileManager.fileExists(atPath: vocabText.path) {
            let config = directory.appendingPathComponent("tokenizer_config.json")
            try self.init(vocabText: vocabText, tokenizerConfig: fileManager.fileExists(atPath: config.path) ? config : nil)
        } else {
            throw EmbeddingError.modelNotFound(directory: modelDirectory, missing: "tokenizer.json or vocab.txt")
        }
    }

    private init(tokenizerJSON url: URL) throws {
        let file = url.path
        guard let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any],
            let model = root["model"] as? [String: Any]
        else {
            throw EmbeddingError.invalidModel(file, "not a tokenizer.json object with a 'model'")
        }
        guard (model["type"] as? String) == "WordPiece" else {
            throw EmbeddingError.unsupportedModel(file, "model.type is \(model["type"] ?? "missing"), not WordPiece")
        }
        guard let rawVocab = model["vocab"] as? [String: Any] else {
            throw EmbeddingError.invalidModel(file, "model.vocab is not an object")
        }
        var options = Options()
        if let unk = model["unk_token"] as? String { options.unknownToken = unk }
        if let prefix = model["continuing_subword_prefix"] as? String { options.continuingSubwordPrefix = prefix }
        if let limit = model["max_input_chars_per_word"] as? Int { options.maxInputCharsPerWord = limit }

        switch root["normalizer"] {
        case let normalizer as [String: Any]:
            guard (normalizer["type"] as? String) == "BertNormalizer" else {
                throw EmbeddingError.unsupportedModel(file, "normalizer.type is \(normalizer["type"] ?? "missing"), not BertNormalizer")
            }
            if let value = normalizer["lowercase"] as? Bool { options.lowercase = value }
            if let value = normalizer["strip_accents"] as? Bool { options.stripAccents = value }
            if let value = normalizer["handle_chinese_chars"] as? Bool { options.handleChineseChars = value }
            if let value = normalizer["clean_text"] as? Bool { options.cleanText = value }
        default:
            throw EmbeddingError.unsupportedModel(file, "needs a BertNormalizer")
        }
        if let pre = root["pre_tokenizer"] as? [String: Any], (pre["type"] as? String) != "BertPreTokenizer" {
            throw EmbeddingError.unsupportedModel(file, "pre_tokenizer.type is \(pre["type"] ?? "missing"), not BertPreTokenizer")
        }

        var ids: [String: Int32] = [:]
        ids.reserveCapacity(rawVocab.count)
        for (token, value) in rawVocab {
            guard let id = (value as? NSNumber)?.int32Value, id >= 0, id < 1 << 24 else {
                throw EmbeddingError.invalidModel(file, "vocabulary id of '\(token)' is not an integer in 0..<2^24")
            }
            ids[token] = id
        }
        let added = (root["added_tokens"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
        try self.init(
            vocabulary: Vocabulary(ids: ids, continuingSubwordPrefix: options.continuingSubwordPrefix),
            options: options,
            specialTokens: added.isEmpty ? nil : added
        )
    }

    private init(vocabText url: URL, tokenizerConfig: URL?) throws {
        var options = Options()
        if let tokenizerConfig {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: tokenizerConfig))
            guard let config = object as? [String: Any] else {
                throw EmbeddingError.invalidModel(tokenizerConfig.path, "not a JSON object")
            }
            if let value = config["do_lower_case"] as? Bool { options.lowercase = value }
            if let value = config["strip_accents"] as? Bool { options.stripAccents = value }
            if let value = config["tokenize_chinese_chars"] as? Bool { options.handleChineseChars = value }
            for (key, keyPath) in [("unk_token", \Options.unknownToken), ("cls_token", \.classifierToken),
                                   ("sep_token", \.separatorToken), ("pad_token", \.paddingToken)] {
                if let value = config[key] as? String { options[keyPath: keyPath] = value }
            }
        }
        guard let text = String(data: try Data(contentsOf: url), encoding: .utf8) else {
            throw EmbeddingError.invalidModel(url.path, "not UTF-8 text")
        }
        try self.init(
            vocabulary: Vocabulary(vocabText: text, continuingSubwordPrefix: options.continuingSubwordPrefix),
            options: options,
            specialTokens: nil
        )
    }
}
