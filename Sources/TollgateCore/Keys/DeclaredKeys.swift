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
    public var name: String
    public var team: String?
    public var user: String?
    public var models: [String]?
    public var rpm: Int?
    public var tpm: Int?
    public var maxConcurrent: Int?
    public var dailyBudgetUSD: Double?
    public var secretEnvironmentVariable: String?
    public var secretSHA256: String?

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
        self.name = try container.decode(String.self, forKey: .name)
        self.team = try container.decodeIfPresent(String.self, forKey: .team)
        self.user = try container.decodeIfPresent(String.self, forKey: .user)
        self.models = try container.decodeIfPresent([String].self, forKey: .models)
        self.rpm = try container.decodeIfPresent(Int.self, forKey: .rpm)
        self.tpm = try container.decodeIfPresent(Int.self, forKey: .tpm)
        self.maxConcurrent = try container.decodeIfPresent(Int.self, forKey: .maxConcurrent)
        for (value, key) in [(self.rpm, CodingKeys.rpm), (self.tpm, .tpm), (self.maxConcurrent, .maxConcurrent)] where (value ?? 1) < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be at least 1")
        }
        self.dailyBudgetUSD = try container.decodeIfPresent(Double.self, forKey: .dailyBudgetUSD)
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
        GatewayKey(
            id: "cfg_" + self.name,
            name: self.name,
            team: self.team,
            user: self.user,
            allowedModels: self.models,
            requestsPerMinute: self.rpm,
            tokensPerMinute: self.tpm,
            maxConcurrent: self.maxConcurrent,
            dailyBudgetUSD: self.dailyBudgetUSD,
            createdAt: Date(timeIntervalSince1970: 0),
            source: .config
        )
    }
}
