import Foundation

/// A sentence-transformers BERT model directory, loaded: tokenizer, weights, pooling and
/// sequence limit. Immutable and shared by every worker.
struct SentenceModel: Sendable {
    let tokenizer: WordPieceTokenizer
    let encoder: BertEncoder
    /// Longest token sequence the model is run on (`[CLS]` and `[SEP]` included).
    let maxTokens: Int

    var dimensions: Int { encoder.config.hiddenSize }
    var pooling: EmbeddingPooling { encoder.pooling }

    /// Loads `config.json`, `tokenizer.json` or `vocab.txt`, `model.safetensors`,
    /// `1_Pooling/config.json` and `sentence_bert_config.json` from `directory`.
    init(directory: String) throws {
        let root = URL(fileURLWithPath: directory, isDirectory: true)
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EmbeddingError.modelNotFound(directory: directory, missing: "model directory (it does not exist)")
        }
        for required in ["config.json", "model.safetensors"]
        where !fileManager.fileExists(atPath: root.appendingPathComponent(required).path) {
            throw EmbeddingError.modelNotFound(directory: directory, missing: required)
        }

        let config = try BertConfiguration.load(root.appendingPathComponent("config.json"))
        let tokenizer = try WordPieceTokenizer(modelDirectory: directory)
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw EmbeddingError.invalidModel(
                directory, "tokenizer has \(tokenizer.vocabularySize) tokens, config.json vocab_size is \(config.vocabSize)"
            )
        }
        let file = try SafeTensorsFile(path: root.appendingPathComponent("model.safetensors").path)
        let weights = try BertWeights(file: file, config: config)
        self.tokenizer = tokenizer
        self.encoder = BertEncoder(weights: weights, pooling: try Self.pooling(root))
        self.maxTokens = try Self.maxTokens(root, config: config)
    }

    /// Token ids of `text`, truncated to ``maxTokens``.
    func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(text, maxTokens: maxTokens)
    }

    // MARK: Directory files

    private static func jsonObject(_ url: URL) throws -> [String: Any]? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw EmbeddingError.invalidModel(url.path, "not a JSON object")
        }
        return object
    }

    /// The pooling of `1_Pooling/config.json` (or the directory `modules.json` names);
    /// mean pooling when the model has no pooling module, as sentence-transformers defaults.
    private static func pooling(_ root: URL) throws -> EmbeddingPooling {
        var poolingPath = "1_Pooling"
        let modulesURL = root.appendingPathComponent("modules.json")
        if FileManager.default.fileExists(atPath: modulesURL.path),
            let modules = try? JSONSerialization.jsonObject(with: Data(contentsOf: modulesURL)) as? [[String: Any]],
            let module = modules.first(where: { ($0["type"] as? String)?.hasSuffix(".Pooling") == true }),
            let path = module["path"] as? String
        {
            poolingPath = path
        }
        let url = root.appendingPathComponent(poolingPath).appendingPathComponent("config.json")
        guard let config = try jsonObject(url) else { return .mean }
        let modes = config.filter { $0.key.hasPrefix("pooling_mode_") && ($0.value as? Bool) == true }.map(\.key).sorted()
        switch modes {
        case ["pooling_mode_mean_tokens"]: return .mean
        case ["pooling_mode_cls_token"]: return .cls
        default:
            throw EmbeddingError.unsupportedModel(
                url.path, "pooling modes \(modes) (supported: pooling_mode_mean_tokens or pooling_mode_cls_token alone)"
            )
        }
    }

    /// `sentence_bert_config.json` `max_seq_length`, else `tokenizer_config.json`
    /// `model_max_length`, capped by the position table.
    private static func maxTokens(_ root: URL, config: BertConfiguration) throws -> Int {
        var limit = config.maxPositionEmbeddings
        if let sentence = try jsonObject(root.appendingPathComponent("sentence_bert_config.json")),
            let value = sentence["max_seq_length"] as? Int
        {
            limit = min(limit, value)
        } else if let tokenizer = try jsonObject(root.appendingPathComponent("tokenizer_config.json")),
            let value = tokenizer["model_max_length"] as? Int
        {
            limit = min(limit, value)
        }
        guard limit >= 2 else {
            throw EmbeddingError.invalidModel(root.path, "maximum sequence length \(limit) leaves no room for text")
        }
        return limit
    }
}
