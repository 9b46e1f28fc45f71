import Foundation

/// The parts of a Hugging Face BERT `config.json` the encoder needs.
struct BertConfiguration: Sendable, Equatable, Decodable {
    var hiddenSize: Int
    var numHiddenLayers: Int
    var numAttentionHeads: Int
    var intermediateSize: Int
    var maxPositionEmbeddings: Int
    var vocabSize: Int
    var typeVocabSize: Int
    var layerNormEps: Float
    var hiddenAct: String
    var modelType: String?
    var positionEmbeddingType: String?

    var headSize: Int { hiddenSize / numAttentionHeads }

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositionEmbeddings = "max_position_embeddings", vocabSize = "vocab_size"
        case typeVocabSize = "type_vocab_size", layerNormEps = "layer_norm_eps", hiddenAct = "hidden_act"
        case modelType = "model_type", positionEmbeddingType = "position_embedding_type"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        maxPositionEmbeddings = try c.decode(Int.self, forKey: .maxPositionEmbeddings)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType)
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType)
    }

    /// Reads and checks `config.json`.
    static func load(_ url: URL) throws -> BertConfiguration {
        let config: BertConfiguration
        do {
            config = try JSONDecoder().decode(BertConfiguration.self, from: Data(contentsOf: url))
        } catch {
            throw EmbeddingError.invalidModel(url.path, "\(error)")
        }
        let file = url.path
        guard config.modelType == nil || config.modelType == "bert" else {
            throw EmbeddingError.unsupportedModel(file, "model_type '\(config.modelType ?? "")' is not bert")
        }
        guard config.hiddenAct == "gelu" else {
            throw EmbeddingError.unsupportedModel(file, "hidden_act '\(config.hiddenAct)' is not gelu")
        }
        guard config.positionEmbeddingType == nil || config.positionEmbeddingType == "absolute" else {
            throw EmbeddingError.unsupportedModel(file, "position_embedding_type '\(config.positionEmbeddingType ?? "")'")
        }
        guard config.hiddenSize > 0, config.numAttentionHeads > 0, config.hiddenSize % config.numAttentionHeads == 0,
            config.numHiddenLayers > 0, config.intermediateSize > 0, config.maxPositionEmbeddings >= 2,
            config.vocabSize > 0, config.typeVocabSize > 0
        else {
            throw EmbeddingError.invalidModel(file, "inconsistent sizes (hidden_size must be a multiple of num_attention_heads)")
        }
        return config
    }
}
