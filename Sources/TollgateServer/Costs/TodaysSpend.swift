import Foundation
import TollgateCore

/// What the ledger says each budget scope has spent today, so budgets resume after a restart
/// (in-process) or after Redis lost its keys. "Today" is each scope's own day: for every time
/// zone a budget uses, the spend since that zone's last midnight is summed for its scopes.
struct TodaysSpend {
    /// Whose spend it is.
    enum Subject: Hashable, Sendable {
        case key(id: String)
        case team(String)
        /// End users count within their tenant: the key's team, or the key when it has none.
        case user(String, team: String?, keyID: String)
        case global

        /// The budget's storage id (`QuotaScope`).
        var scopeID: String {
            switch self {
            case .key(let id): QuotaScope.keyID(id)
            case .team(let team): QuotaScope.teamID(team)
            case .user(let user, let team, let keyID): QuotaScope.userID(user, team: team, keyID: keyID)
            case .global: QuotaScope.globalID
            }
        }
    }

    struct ScopeSpend: Sendable {
        var subject: Subject
        var day: BudgetDay
        var spent: USD

        var scopeID: String { self.subject.scopeID }
    }

    let limits: LimitsConfig

    /// Every time zone a budget uses, with the day it is in at `now`.
    func days(at now: Date) -> [(zone: String, day: BudgetDay)] {
        let settings = [self.limits.global] + Array(self.limits.teams.values) + Array(self.limits.users.values)
        var zones = [self.limits.timeZone.identifier: self.limits.timeZone]
        for zone in settings.compactMap(\.timeZone) { zones[zone.identifier] = zone }
        return zones.map { ($0.key, BudgetDay(containing: now, in: $0.value)) }
    }

    /// The scopes of `zone` and what they spent, from the ledger's spend since `day` began.
    func scopes(
        zone: String, day: BudgetDay, rows: [(keyID: String?, team: String?, user: String?, cost: USD)]
    ) -> [ScopeSpend] {
        func zoneID(_ settings: LimitSettings?) -> String { (settings?.timeZone ?? self.limits.timeZone).identifier }
        var spent: [Subject: USD] = [:]
        for row in rows where row.cost > .zero {
            // Keys' own budgets use the default zone (`keys create` sets none).
            if let keyID = row.keyID, zoneID(nil) == zone { spent[.key(id: keyID), default: .zero] += row.cost }
            if let team = row.team, zoneID(self.limits.teams[team]) == zone { spent[.team(team), default: .zero] += row.cost }
            if let user = row.user, row.team != nil || row.keyID != nil, zoneID(self.limits.user(user)) == zone {
                spent[.user(user, team: row.team, keyID: row.keyID ?? ""), default: .zero] += row.cost
            }
            if zoneID(self.limits.global) == zone { spent[.global, default: .zero] += row.cost }
        }
        return spent.map { ScopeSpend(subject: $0.key, day: day, spent: $0.value) }
    }

    /// The day each kind of subject's budget is counted in at `now`.
    func day(of subject: Subject, at now: Date) -> BudgetDay {
        let settings: LimitSettings? = switch subject {
        case .key: nil
        case .team(let team): self.limits.teams[team]
        case .user(let user, _, _): self.limits.user(user)
        case .global: self.limits.global
        }
        return BudgetDay(containing: now, in: settings?.timeZone ?? self.limits.timeZone)
    }

    /// Every scope's spend today, read from `ledger` (off the caller's thread: GRDB's queue).
    func read(from ledger: any LedgerStore, at now: Date = Date()) async throws -> [ScopeSpend] {
        var result: [ScopeSpend] = []
        for (zone, day) in self.days(at: now) {
            let rows = try await ledger.spend(sinceMs: Int64(day.startsAt.timeIntervalSince1970 * 1000))
            result += self.scopes(zone: zone, day: day, rows: rows)
        }
        return result
    }
}
