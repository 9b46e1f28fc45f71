import Foundation

/// One subject a request counts against, with its limits. A request usually has several:
/// its key, its team, its end user and the global scope; all must admit it.
public struct QuotaScope: Sendable, Equatable {
    public enum Kind: String, Sendable { case key, team, user, global }

    public var kind: Kind
    /// Stable storage id, unique across kinds and tenants (part of Redis keys).
    public var id: String
    /// The key's name, the team, the end user; empty for the global scope.
    public var name: String
    public var limits: LimitSettings
    /// Resolved budget time zone.
    public var timeZone: TimeZone

    public init(kind: Kind, id: String, name: String, limits: LimitSettings, timeZone: TimeZone) {
        self.kind = kind
        self.id = id
        self.name = name
        self.limits = limits
        self.timeZone = timeZone
    }

    /// What error messages call the subject, e.g. `user 'alice'` (built only for a refusal).
    public var label: String {
        switch self.kind {
        case .key: "key '\(self.name)'"
        case .team: "team '\(self.name)'"
        case .user: "user '\(self.name)'"
        case .global: "the gateway"
        }
    }
}

extension LimitsConfig {
    /// The scopes a request by `key` on behalf of end user `user` counts against. End users
    /// are scoped to their tenant (the key's team, or the key itself), so two apps' users
    /// with the same id never share a budget.
    public func scopes(key: GatewayKey, keyLimits: LimitSettings, user: String?) -> [QuotaScope] {
        var scopes: [QuotaScope] = []
        scopes.reserveCapacity(4)
        if !keyLimits.isEmpty {
            scopes.append(.init(kind: .key, id: "k:" + key.id, name: key.name, limits: keyLimits, timeZone: keyLimits.timeZone ?? self.timeZone))
        }
        if let team = key.team, let limits = self.teams[team], !limits.isEmpty {
            scopes.append(.init(kind: .team, id: "t:" + team, name: team, limits: limits, timeZone: limits.timeZone ?? self.timeZone))
        }
        if let user, let limits = self.user(user), !limits.isEmpty {
            let tenant = key.team.map { "t=" + $0 } ?? "k=" + key.id
            scopes.append(.init(kind: .user, id: "u:\(tenant):\(user)", name: user, limits: limits, timeZone: limits.timeZone ?? self.timeZone))
        }
        if !self.global.isEmpty {
            scopes.append(.init(kind: .global, id: "g", name: "", limits: self.global, timeZone: self.global.timeZone ?? self.timeZone))
        }
        return scopes
    }
}

extension GatewayKey {
    /// The limits carried by the key itself (`keys create --rpm --tpm --daily-budget`).
    public var limitSettings: LimitSettings {
        LimitSettings(
            requestsPerMinute: self.requestsPerMinute, tokensPerMinute: self.tokensPerMinute, maxConcurrent: self.maxConcurrent,
            dailyBudget: self.dailyBudgetUSD.map(USD.init(dollars:))
        )
    }
}
