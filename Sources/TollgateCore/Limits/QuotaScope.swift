import Foundation
import Synchronization

/// One subject a request counts against, with its limits. A request usually has several:
/// its key, its team, its end user and the global scope; all must admit it.
///
/// A class: every request builds its scopes and passes them through the claim, the store
/// and the settlement, and a copy of a reference is one retain where a struct of strings,
/// limits and a time zone was several.
public final class QuotaScope: Sendable, Equatable {
    public enum Kind: String, Sendable { case key, team, user, global }

    public let kind: Kind
    /// Stable storage id, unique across kinds and tenants (part of Redis keys).
    public let id: String
    /// The key's name, the team, the end user; empty for the global scope.
    public let name: String
    public let limits: LimitSettings
    /// Resolved budget time zone.
    public let timeZone: TimeZone
    /// `timeZone.identifier`, read once: budget days are looked up by it on every request.
    public let timeZoneID: String

    public init(kind: Kind, id: String, name: String, limits: LimitSettings, timeZone: TimeZone) {
        self.kind = kind
        self.id = id
        self.name = name
        self.limits = limits
        self.timeZone = timeZone
        self.timeZoneID = timeZone.identifier
    }

    public static func == (lhs: QuotaScope, rhs: QuotaScope) -> Bool {
        lhs.kind == rhs.kind && lhs.id == rhs.id && lhs.name == rhs.name && lhs.limits == rhs.limits && lhs.timeZone == rhs.timeZone
    }

    /// Storage ids, in one place: the ledger's spend is mapped back to scopes by them.
    public static func keyID(_ keyID: String) -> String { "k:" + keyID }
    public static func teamID(_ team: String) -> String { "t:" + team }
    /// End users are scoped to their tenant: the key's team, or the key itself.
    public static func userID(_ user: String, team: String?, keyID: String) -> String {
        "u:" + (team.map { "t=" + $0 } ?? "k=" + keyID) + ":" + user
    }
    public static let globalID = "g"

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
        [
            self.keyScope(key, limits: keyLimits), key.team.flatMap(self.teamScope), user.flatMap { self.userScope($0, of: key) },
            self.globalScope(),
        ].compactMap { $0 }
    }

    func keyScope(_ key: GatewayKey, limits: LimitSettings) -> QuotaScope? {
        guard !limits.isEmpty else { return nil }
        return QuotaScope(kind: .key, id: QuotaScope.keyID(key.id), name: key.name, limits: limits, timeZone: limits.timeZone ?? self.timeZone)
    }

    func teamScope(_ team: String) -> QuotaScope? {
        guard let limits = self.teams[team], !limits.isEmpty else { return nil }
        return QuotaScope(kind: .team, id: QuotaScope.teamID(team), name: team, limits: limits, timeZone: limits.timeZone ?? self.timeZone)
    }

    func userScope(_ user: String, of key: GatewayKey) -> QuotaScope? {
        guard let limits = self.user(user), !limits.isEmpty else { return nil }
        return QuotaScope(kind: .user, id: QuotaScope.userID(user, team: key.team, keyID: key.id), name: user, limits: limits, timeZone: limits.timeZone ?? self.timeZone)
    }

    func globalScope() -> QuotaScope? {
        guard !self.global.isEmpty else { return nil }
        return QuotaScope(kind: .global, id: QuotaScope.globalID, name: "", limits: self.global, timeZone: self.global.timeZone ?? self.timeZone)
    }
}

/// `LimitsConfig.scopes` for every request, reusing what does not depend on the end user:
/// team and global scopes are built once, each key's scope once per key (rebuilt if the
/// key's limits change). Only the end user's scope is made per request.
public final class ScopeResolver: Sendable {
    public let limits: LimitsConfig
    private let teamScopes: [String: QuotaScope]
    private let globalScope: QuotaScope?
    private let keyScopes = Mutex<[String: CachedKeyScope]>([:])
    /// End users' scopes by (team, or key when keyless, and user id): built once per user
    /// instead of per request. Users' limits come from limits.yaml only, fixed for this resolver.
    private let userScopes = Mutex<[UserScopeKey: QuotaScope]>([:])
    /// Bounds the key cache (keys are few; this only guards against churn).
    private static let maxCachedKeys = 10_000
    private static let maxCachedUsers = 50_000

    /// A key's scope (nil when the key has no limits of its own), with what it was built from.
    private struct CachedKeyScope {
        var limits: LimitSettings
        var name: String
        var scope: QuotaScope?
    }

    public init(limits: LimitsConfig) {
        self.limits = limits
        self.teamScopes = limits.teams.keys.reduce(into: [:]) { scopes, team in scopes[team] = limits.teamScope(team) }
        self.globalScope = limits.globalScope()
    }

    public func scopes(key: GatewayKey, user: String?) -> [QuotaScope] {
        var scopes: [QuotaScope] = []
        scopes.reserveCapacity(4)
        if let scope = self.keyScope(key) { scopes.append(scope) }
        if let team = key.team, let scope = self.teamScopes[team] { scopes.append(scope) }
        if let user, let scope = self.userScope(user, of: key) { scopes.append(scope) }
        if let scope = self.globalScope { scopes.append(scope) }
        return scopes
    }

    private struct UserScopeKey: Hashable {
        var team: String?
        var keyID: String?
        var user: String
    }

    private func userScope(_ user: String, of key: GatewayKey) -> QuotaScope? {
        // The scope id names the team, or the key for keys without one (`QuotaScope.userID`).
        let cacheKey = UserScopeKey(team: key.team, keyID: key.team == nil ? key.id : nil, user: user)
        if let scope = self.userScopes.withLock({ $0[cacheKey] }) { return scope }
        guard let scope = self.limits.userScope(user, of: key) else { return nil }
        self.userScopes.withLock { scopes in
            // Unbounded end-user ids must not grow memory without bound.
            if scopes.count >= Self.maxCachedUsers { scopes.removeAll(keepingCapacity: true) }
            scopes[cacheKey] = scope
        }
        return scope
    }

    private func keyScope(_ key: GatewayKey) -> QuotaScope? {
        let limits = key.limitSettings
        if let cached = self.keyScopes.withLock({ $0[key.id] }), cached.limits == limits, cached.name == key.name {
            return cached.scope
        }
        let scope = self.limits.keyScope(key, limits: limits)
        self.keyScopes.withLock { scopes in
            if scopes.count >= Self.maxCachedKeys { scopes.removeAll(keepingCapacity: true) }
            scopes[key.id] = CachedKeyScope(limits: limits, name: key.name, scope: scope)
        }
        return scope
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
