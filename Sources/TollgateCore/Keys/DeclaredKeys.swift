import Foundation

/// `budgets/keys.yaml`: gateway keys that teams manage in git. A declared key names the
/// environment variable holding its secret, or the secret's SHA-256, never the secret.
public struct DeclaredKeysFile: Sendable, Decodable {
    public var keys: [DeclaredKey]

    enum CodingKeys: String, CodingKey, CaseIterable { case keys }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.keys = try container.decodeIfPresent([DeclaredKey].self, forKey: .keys) ?? []
        var seen = Set<String>()
        for (index, key) in self.keys.enumerated() where !seen.insert(key.name).inserted {
            throw DecodingError.dataCorrupted(.init(
                codingPath: [CodingKeys.keys, JSONKey("Index \(index)"), JSONKey("name")],
                debugDescription: "duplicate key name '\(key.name)'"
            ))
        }
    }

    /// Loads `keys.yaml` from the budgets directory; no file means no declared keys.
    public static func load(budgetsDirectory: String, environment: [String: String]) throws(ConfigError) -> [(digest: KeyDigest, key: GatewayKey)] {
        let path = (budgetsDirectory as NSString).appendingPathComponent("keys.yaml")
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let file = try ConfigLoader.load(DeclaredKeysFile.self, file: path, environment: environment)
        var result: [(digest: KeyDigest, key: GatewayKey)] = []
        for (index, declared) in file.keys.enumerated() {
            let digest: KeyDigest
            if let variable = declared.secretEnvironmentVariable {
                guard let secret = environment[variable], !secret.isEmpty else { continue }  // unset: key disabled
                digest = KeySecret.digest(secret)
            } else if let sha256 = declared.secretSHA256, let parsed = KeyDigest(hex: sha256) {
                digest = parsed
            } else {
                throw ConfigError(file: path, key: "keys[\(index)]", reason: "needs 'secret_env' or 'secret_sha256'")
            }
            result.append((digest, declared.gatewayKey))
        }
        return result
    }
}

public struct DeclaredKey: Sendable, Decodable {
    /// The key's name, team, user, models and limits, as `POST /admin/keys` takes them.
    public var key: KeyRequest
    public var secretEnvironmentVariable: String?
    public var secretSHA256: String?

    public var name: String { self.key.name }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, team, user, models, rpm, tpm
        case maxConcurrent = "max_concurrent"
        case dailyBudgetUSD = "daily_budget_usd"
        case secretEnvironmentVariable = "secret_env"
        case secretSHA256 = "secret_sha256"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.key = try KeyRequest(fieldsFrom: decoder)
        if let (field, reason) = self.key.problem, let codingKey = CodingKeys(rawValue: field) {
            throw DecodingError.dataCorruptedError(forKey: codingKey, in: container, debugDescription: reason)
        }
        self.secretEnvironmentVariable = try container.decodeIfPresent(String.self, forKey: .secretEnvironmentVariable)
        self.secretSHA256 = try container.decodeIfPresent(String.self, forKey: .secretSHA256)?.lowercased()
        if self.secretEnvironmentVariable != nil && self.secretSHA256 != nil {
            throw decoder.invalid("use either 'secret_env' or 'secret_sha256', not both")
        }
        if let hash = self.secretSHA256, hash.count != 64 || !hash.allSatisfy(\.isHexDigit) {
            throw DecodingError.dataCorruptedError(
                forKey: .secretSHA256, in: container, debugDescription: "must be 64 hex digits (sha256 of the secret)"
            )
        }
    }

    var gatewayKey: GatewayKey {
        self.key.key(id: "cfg_" + self.name, createdAt: Date(timeIntervalSince1970: 0), source: .config)
    }
}
