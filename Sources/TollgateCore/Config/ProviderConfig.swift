/// One upstream provider account: where it is, how to authenticate, and how long to wait.
public struct ProviderConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Decodable, CaseIterable {
        /// OpenAI and any OpenAI-compatible API (`/chat/completions`, `/embeddings`, `/models`).
        case openai
    }

    public var kind: Kind
    /// Base URL including the version path, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    /// Name of the environment variable holding the API key. The key itself never sits in a file.
    public var apiKeyEnvironmentVariable: String?
    /// Extra headers sent with every request (e.g. `OpenAI-Organization`).
    public var headers: [String: String]
    public var timeouts: ProviderTimeouts

    public init(
        kind: Kind = .openai,
        baseURL: String,
        apiKeyEnvironmentVariable: String? = nil,
        headers: [String: String] = [:],
        timeouts: ProviderTimeouts = .init()
    ) {
        self.kind = kind
        self.baseURL = baseURL
        self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
        self.headers = headers
        self.timeouts = timeouts
    }
}

extension ProviderConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, headers, timeouts
        case baseURL = "base_url"
        case apiKeyEnvironmentVariable = "api_key_env"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kindName = try container.decode(String.self, forKey: .kind)
        guard let kind = Kind(rawValue: kindName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container,
                debugDescription: "unknown provider kind '\(kindName)' (one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        self.kind = kind
        var baseURL = try container.decode(String.self, forKey: .baseURL)
        while baseURL.hasSuffix("/") { baseURL.removeLast() }
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://"), baseURL.count > 8 else {
            throw DecodingError.dataCorruptedError(
                forKey: .baseURL, in: container, debugDescription: "'\(baseURL)' is not an http(s) URL"
            )
        }
        self.baseURL = baseURL
        self.apiKeyEnvironmentVariable = try container.decodeIfPresent(String.self, forKey: .apiKeyEnvironmentVariable).nonEmpty
        self.headers = try container.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        for name in self.headers.keys where ProviderConfig.reservedHeaders.contains(name.lowercased()) {
            throw DecodingError.dataCorruptedError(
                forKey: .headers, in: container,
                debugDescription: "header '\(name)' is set by the gateway itself; use api_key_env for credentials"
            )
        }
        self.timeouts = try container.decodeIfPresent(ProviderTimeouts.self, forKey: .timeouts) ?? .init()
    }

    /// Headers the gateway owns: credentials, framing and hop-by-hop headers.
    static let reservedHeaders: Set<String> = [
        "authorization", "api-key", "x-api-key", "content-length", "content-type", "host",
        "transfer-encoding", "connection",
    ]
}

/// Per-attempt upstream timeouts.
public struct ProviderTimeouts: Sendable, Equatable, Decodable {
    public var connect: Duration = .seconds(10)
    /// Whole request, including a full stream. Long generations need minutes.
    public var total: Duration = .seconds(600)
    /// Longest silence allowed between received bytes (time to first byte included).
    public var idle: Duration = .seconds(120)

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case connect, total, idle }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let value = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .connect) { self.connect = value.duration }
        if let value = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .total) { self.total = value.duration }
        if let value = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .idle) { self.idle = value.duration }
    }
}
