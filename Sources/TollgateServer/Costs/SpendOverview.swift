import Foundation
import TollgateCore

/// Today's spend against each daily budget, for `GET /admin/spend` and the dashboard: per
/// key, team and end user (the top spenders) and for the gateway as a whole, each in its own
/// budget day, with what is left and when it resets.
///
/// From the ledger, so the figures are those of `tollgate report` for the same day: settled
/// requests only (one in flight counts once it ends), and this replica's ledger unless the
/// ledger is shared.
struct SpendOverview: Sendable {
    struct Entry: Encodable, Sendable, Equatable {
        var kind: String
        /// The key's id, the team, the end user; nil for the gateway.
        var id: String?
        /// The key's name; the team or user again otherwise.
        var name: String?
        /// An end user's tenant.
        var team: String?
        var keyID: String?
        var spentNanodollars: Int64
        var spentUSD: Double
        var budgetUSD: Double?
        var remainingUSD: Double?
        var usedPercent: Double?
        var day: String
        var resetsAt: String

        enum CodingKeys: String, CodingKey {
            case kind, id, name, team, day
            case keyID = "key_id"
            case spentNanodollars = "spent_nanodollars"
            case spentUSD = "spent_usd"
            case budgetUSD = "budget_usd"
            case remainingUSD = "remaining_usd"
            case usedPercent = "used_pct"
            case resetsAt = "resets_at"
        }
    }

    struct Overview: Encodable, Sendable {
        var generatedAt: String
        var global: Entry
        var teams: [Entry]
        var keys: [Entry]
        var users: [Entry]
        /// Entries left out of each list past `top`.
        var omitted: [String: Int]

        enum CodingKeys: String, CodingKey {
            case global, teams, keys, users, omitted
            case generatedAt = "generated_at"
        }
    }

    let limits: LimitsConfig

    /// Budgeted teams and keys appear even before they spend; users only once they have.
    func make(ledger: (any LedgerStore)?, keys: [GatewayKey], top: Int, now: Date = Date()) async throws -> Overview {
        let today = TodaysSpend(limits: self.limits)
        var spent: [TodaysSpend.Subject: USD] = [:]
        if let ledger {
            for scope in try await today.read(from: ledger, at: now) { spent[scope.subject, default: .zero] += scope.spent }
        }
        let keysByID = Dictionary(keys.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for key in keys where key.dailyBudgetUSD != nil && !key.isRevoked { spent[.key(id: key.id), default: .zero] += .zero }
        for (team, settings) in self.limits.teams where settings.dailyBudget != nil { spent[.team(team), default: .zero] += .zero }

        var teams: [Entry] = [], keyEntries: [Entry] = [], users: [Entry] = []
        let global = self.entry(.global, spent: spent[.global] ?? .zero, budget: self.limits.global.dailyBudget, today: today, now: now)
        for (subject, amount) in spent {
            switch subject {
            case .global:
                continue
            case .team(let team):
                teams.append(self.entry(subject, spent: amount, budget: self.limits.teams[team]?.dailyBudget, today: today, now: now))
            case .key(let id):
                let key = keysByID[id]
                var entry = self.entry(subject, spent: amount, budget: key?.dailyBudgetUSD.map(USD.init(dollars:)), today: today, now: now)
                entry.name = key?.name
                entry.team = key?.team
                keyEntries.append(entry)
            case .user(let user, _, _):
                users.append(self.entry(subject, spent: amount, budget: self.limits.user(user)?.dailyBudget, today: today, now: now))
            }
        }
        var omitted: [String: Int] = [:]
        func topOf(_ entries: [Entry], _ name: String) -> [Entry] {
            let sorted = entries.sorted { a, b in
                a.spentNanodollars != b.spentNanodollars ? a.spentNanodollars > b.spentNanodollars : (a.id ?? "", a.team ?? "") < (b.id ?? "", b.team ?? "")
            }
            if sorted.count > top { omitted[name] = sorted.count - top }
            return Array(sorted.prefix(top))
        }
        return Overview(
            generatedAt: Self.timestamp(now), global: global, teams: topOf(teams, "teams"), keys: topOf(keyEntries, "keys"),
            users: topOf(users, "users"), omitted: omitted
        )
    }

    private func entry(_ subject: TodaysSpend.Subject, spent: USD, budget: USD?, today: TodaysSpend, now: Date) -> Entry {
        let day = today.day(of: subject, at: now)
        var entry = Entry(
            kind: "", id: nil, name: nil, team: nil, keyID: nil, spentNanodollars: spent.nanos, spentUSD: spent.dollars,
            budgetUSD: budget?.dollars, remainingUSD: budget.map { max(.zero, $0 - spent).dollars },
            usedPercent: budget.flatMap { $0.nanos > 0 ? (Double(spent.nanos) / Double($0.nanos) * 1000).rounded() / 10 : nil },
            day: day.name, resetsAt: Self.timestamp(day.resetsAt)
        )
        switch subject {
        case .key(let id):
            entry.kind = "key"
            entry.id = id
        case .team(let team):
            entry.kind = "team"
            (entry.id, entry.name) = (team, team)
        case .user(let user, let team, let keyID):
            entry.kind = "user"
            (entry.id, entry.name, entry.team) = (user, user, team)
            entry.keyID = team == nil ? keyID : nil
        case .global:
            entry.kind = "global"
        }
        return entry
    }

    private static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
