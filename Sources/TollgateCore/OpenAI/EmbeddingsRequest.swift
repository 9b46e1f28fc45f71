/// An OpenAI Embeddings request body; unknown fields are kept and passed through.
public struct EmbeddingsRequest: Sendable, Hashable {
    public enum Input: Sendable, Hashable {
        case texts([String])
        case tokens([[Int]])

        public var count: Int {
            switch self {
            case .texts(let texts): texts.count
            case .tokens(let tokens): tokens.count
            }
        }
    }

    public enum EncodingFormat: String, Sendable, Hashable { case float, base64 }

    public var model: String
    public var input: Input
    public var encodingFormat: EncodingFormat?
    public var dimensions: Int?
    public var user: String?
    public var additionalFields: JSONObject

    /// OpenAI's limit on inputs per request.
    public static let maxInputs = 2048
}

extension EmbeddingsRequest: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        var model: String?
        var input: Input?
        self.additionalFields = JSONObject()
        for key in container.allKeys {
            switch key.stringValue {
            case "model": model = try container.decode(String.self, forKey: key)
            case "input": input = try Self.decodeInput(container, key: key)
            case "encoding_format":
                let raw = try container.decode(String.self, forKey: key)
                guard let format = EncodingFormat(rawValue: raw) else {
                    throw RequestValidationError(
                        message: "Invalid value for 'encoding_format': '\(raw)'. Supported values are: 'float' and 'base64'.",
                        param: "encoding_format"
                    )
                }
                self.encodingFormat = format
            case "dimensions": self.dimensions = try container.decodeIfPresent(Int.self, forKey: key)
            case "user": self.user = try container.decodeIfPresent(String.self, forKey: key)
            default: self.additionalFields[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
            }
        }
        guard let model else { throw RequestValidationError.missing("model") }
        guard let input else { throw RequestValidationError.missing("input") }
        guard input.count > 0 else {
            throw RequestValidationError(message: "'input' must not be empty.", param: "input")
        }
        guard input.count <= Self.maxInputs else {
            throw RequestValidationError(message: "'input' can hold at most \(Self.maxInputs) items, got \(input.count).", param: "input")
        }
        if case .texts(let texts) = input, let index = texts.firstIndex(where: \.isEmpty) {
            throw RequestValidationError(message: "'input[\(index)]' must not be an empty string.", param: "input")
        }
        if let dimensions = self.dimensions, dimensions < 1 {
            throw RequestValidationError(message: "'dimensions' must be at least 1.", param: "dimensions")
        }
        self.model = model
        self.input = input
    }

    private static func decodeInput(_ container: KeyedDecodingContainer<JSONKey>, key: JSONKey) throws -> Input {
        if let text = try? container.decode(String.self, forKey: key) { return .texts([text]) }
        if let texts = try? container.decode([String].self, forKey: key) { return .texts(texts) }
        if let tokens = try? container.decode([Int].self, forKey: key) { return .tokens([tokens]) }
        if let batches = try? container.decode([[Int]].self, forKey: key) { return .tokens(batches) }
        throw RequestValidationError(
            message: "Invalid type for 'input': expected a string, an array of strings, an array of integers or an array of arrays of integers.",
            param: "input"
        )
    }
}
