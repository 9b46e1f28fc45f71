import Foundation

/// A gateway key: what an app presents instead of a provider key. Carries who it belongs to
/// and what it may do. The secret itself is never stored, only its SHA-256.
public struct GatewayKey: Sendable, Equatable {
    public enum Source: String, Sendable, Equatable {
        /// Created with `tollgate keys create` (SQLite under the data dir).
        case database
        /// Declared in `budgets/keys.yaml`.
        case config
    }

    public var id: String
    public var name: String
    public var team: String?
    public var user: String?
    /// Model names or `*` patterns this key may use; `nil` allows every model.
    public var allowedModels: [String]?
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    /// Most requests this key may have in flight at once.
    public var maxConcurrent: Int?
    public var dailyBudgetUSD: Double?
    public var createdAt: Date
    public var revokedAt: Date?
    public var source: Source

    public init(
        id: String,
        name: String,
        team: String? = nil,
        user: String? = nil,
        allowedModels: [String]? = nil,
        requestsPerMinute: Int? = nil,
        tokensPerMinute: Int? = nil,
        maxConcurrent: Int? = nil,
        dailyBudgetUSD: Double? = nil,
        createdAt: Date = Date(),
        revokedAt: Date? = nil,
        source: Source = .database
    ) {
        self.id = id
        self.name = name
        self.team = team
        self.user = user
        self.allowedModels = allowedModels
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxConcurrent = maxConcurrent
        self.dailyBudgetUSD = dailyBudgetUSD
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.source = source
    }

    public var isRevoked: Bool { self.revokedAt != nil }

    /// Whether this key may use `model` (an exact name or one matching an allowed pattern).
    public func allows(model: String) -> Bool {
        guard let allowedModels else { return true }
        return allowedModels.contains { GlobPattern($0).matches(model) }
    }
}
