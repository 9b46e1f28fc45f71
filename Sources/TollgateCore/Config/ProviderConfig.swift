import Foundation

/// One upstream provider account: where it is, how to authenticate, and how long to wait.
public struct ProviderConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Decodable, CaseIterable {
        /// OpenAI and any OpenAI-compatible API (`/chat/completions`, `/embeddings`, `/models`),
        /// `Authorization: Bearer`.
        case openai
        /// Anthropic Messages (`/v1/messages`), `x-api-key` and `anthropic-version`.
        case anthropic
        /// Azure OpenAI: one deployment per model under the resource URL, `api-key`, `api-version`.
        case azureOpenAI = "azure-openai"
    }

    public var kind: Kind
    /// `openai`: the base URL including the version path, e.g. `https://api.openai.com/v1`.
    /// `anthropic`: without `/v1`, as in `ANTHROPIC_BASE_URL` (`https://api.anthropic.com`).
    /// `azure-openai`: the resource, e.g. `https://my-resource.openai.azure.com`.
    public var baseURL: String
    /// Name of the environment variable holding the API key. The key itself never sits in a file.
    public var apiKeyEnvironmentVariable: String?
    /// Extra headers sent with every request (e.g. `OpenAI-Organization`).
    public var headers: [String: String]
    public var timeouts: ProviderTimeouts
    /// `anthropic`: the `anthropic-version` header sent with every request.
    public var anthropicVersion: String
    /// `azure-openai`: the `api-version` query parameter.
    public var apiVersion: String

    public static let defaultAnthropicVersion = "2023-06-01"
    public static let defaultAzureAPIVersion = "2024-10-21"

    public init(
        kind: Kind = .openai,
        baseURL: String,
        apiKeyEnvironmentVariable: String? = nil,
        headers: [String: String] = [:],
        timeouts: ProviderTimeouts = .init(),
        anthropicVersion: String = ProviderConfig.defaultAnthropicVersion,
        apiVersion: String = ProviderConfig.defaultAzureAPIVersion
    ) {
        self.kind = kind
        self.baseURL = baseURL
        self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
        self.headers = headers
        self.timeouts = timeouts
        self.anthropicVersion = anthropicVersion
        self.apiVersion = apiVersion
    }

    /// Whether the provider answers OpenAI Chat Completions (else Anthropic Messages).
    public var speaksOpenAI: Bool { self.kind != .anthropic }
}

extension ProviderConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, headers, timeouts
        case baseURL = "base_url"
        case apiKeyEnvironmentVariable = "api_key_env"
        case anthropicVersion = "anthropic_version"
        case apiVersion = "api_version"
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
        let anthropicVersion = try container.decodeIfPresent(String.self, forKey: .anthropicVersion).nonEmpty
        if anthropicVersion != nil && kind != .anthropic {
            throw DecodingError.dataCorruptedError(
                forKey: .anthropicVersion, in: container, debugDescription: "only 'anthropic' providers take anthropic_version"
            )
        }
        self.anthropicVersion = anthropicVersion ?? Self.defaultAnthropicVersion
        let apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion).nonEmpty
        if apiVersion != nil && kind != .azureOpenAI {
            throw DecodingError.dataCorruptedError(
                forKey: .apiVersion, in: container, debugDescription: "only 'azure-openai' providers take api_version"
            )
        }
        self.apiVersion = apiVersion ?? Self.defaultAzureAPIVersion
        if kind == .anthropic && self.baseURL.hasSuffix("/v1") {
            throw DecodingError.dataCorruptedError(
                forKey: .baseURL, in: container,
                debugDescription: "an anthropic base_url has no '/v1' (like ANTHROPIC_BASE_URL): use '\(self.baseURL.dropLast(3))'"
            )
        }
    }

    /// Headers the gateway owns: credentials, framing and hop-by-hop headers.
    static let reservedHeaders: Set<String> = [
        "authorization", "api-key", "x-api-key", "anthropic-version", "content-length", "content-type", "host",
        "transfer-encoding", "connection",
    ]
}

// MARK: - Endpoints

/// What the gateway asks a provider for.
public enum ProviderEndpoint: Sendable {
    case chatCompletions
    case messages
    case embeddings
    case models
}

extension ProviderConfig {
    /// The URL of `endpoint` for `model` (the upstream model name: an Azure deployment), or
    /// nil when this kind of provider has no such endpoint.
    public func url(for endpoint: ProviderEndpoint, model: String) -> String? {
        switch (self.kind, endpoint) {
        case (.openai, .chatCompletions): self.baseURL + "/chat/completions"
        case (.openai, .embeddings): self.baseURL + "/embeddings"
        case (.openai, .models): self.baseURL + "/models"
        case (.anthropic, .messages): self.baseURL + "/v1/messages"
        case (.azureOpenAI, .chatCompletions): self.azureDeploymentURL(model, operation: "chat/completions")
        case (.azureOpenAI, .embeddings): self.azureDeploymentURL(model, operation: "embeddings")
        default: nil
        }
    }

    private func azureDeploymentURL(_ deployment: String, operation: String) -> String {
        let name = deployment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", "?", "#"])) ?? deployment
        let version = self.apiVersion.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "=", "+"])) ?? self.apiVersion
        return "\(self.baseURL)/openai/deployments/\(name)/\(operation)?api-version=\(version)"
    }
}

/// Per-attempt upstream timeouts.
public struct ProviderTimeouts: Sendable, Equatable, Decodable {
    public var connect: Duration = .seconds(10)
    /// Whole request, including a full stream. Long generations need minutes.
    public var total: Duration = .seconds(600)
    /// Longest silence allowed between received bytes (time to first byte included).
    public var idle: Duration = .seconds(120)
    /// Time to the response head, and for streams to the first content; nil: `idle` only.
    /// Past it the fallback chain moves on.
    public var firstByte: Duration?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case connect, total, idle
        case firstByte = "first_byte"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let value = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .connect) { self.connect = value.duration }
        if let value = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .total) { self.total = value.duration }
        if let value = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .idle) { self.idle = value.duration }
        if let value = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .firstByte) { self.firstByte = value.duration }
        for (key, value) in [(CodingKeys.connect, self.connect), (.total, self.total), (.idle, self.idle), (.firstByte, self.firstByte ?? .seconds(1))]
        where value <= .zero {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "a timeout must be positive")
        }
    }
}
