import Foundation
import Synchronization
import TollgateCore

/// One alert about one daily budget: past its soft limit, exhausted, or spending far faster
/// than the day before. Sent once per budget, day and kind.
struct BudgetAlert: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable {
        case softLimit = "soft_limit"
        case exhausted
        case spike
    }

    var kind: Kind
    var budget: SpendOverview.Entry
    /// For a spike: the last hour's spend and the day before's hourly average.
    var lastHourUSD: Double?
    var hourlyAverageUSD: Double?

    /// What makes it "the same alert": the kind, the budget and its day.
    var key: String { "\(self.kind.rawValue)|\(self.budget.kind)|\(self.budget.id ?? "global")|\(self.budget.day)" }

    /// One line for people (Slack shows `text`).
    var text: String {
        let who = self.budget.kind == "global" ? "The gateway" : "\(self.budget.kind.capitalized) \(self.budget.name ?? self.budget.id ?? "")"
        let spent = String(format: "$%.2f", self.budget.spentUSD), limit = String(format: "$%.2f", self.budget.budgetUSD ?? 0)
        let used = String(format: "%.0f%%", self.budget.usedPercent ?? 0)
        switch self.kind {
        case .softLimit:
            return "\(who) has used \(used) of its daily budget (\(spent) of \(limit)); it resets at \(self.budget.resetsAt)."
        case .exhausted:
            return "\(who) has exhausted its daily budget (\(spent) of \(limit)): its requests are refused until \(self.budget.resetsAt)."
        case .spike:
            return "\(who) spent \(String(format: "$%.2f", self.lastHourUSD ?? 0)) in the last hour, against \(String(format: "$%.2f", self.hourlyAverageUSD ?? 0)) an hour over the day before (\(used) of its \(limit) daily budget used)."
        }
    }

    /// The webhook body: Slack's `text`, and the figures for machines.
    struct Payload: Encodable {
        var text: String
        var alert: Details

        struct Details: Encodable {
            var kind: String
            var budget: SpendOverview.Entry
            var lastHourUSD: Double?
            var hourlyAverageUSD: Double?

            enum CodingKeys: String, CodingKey {
                case kind, budget
                case lastHourUSD = "last_hour_usd"
                case hourlyAverageUSD = "hourly_average_usd"
            }
        }
    }

    var payload: Payload {
        Payload(text: self.text, alert: .init(kind: self.kind.rawValue, budget: self.budget, lastHourUSD: self.lastHourUSD, hourlyAverageUSD: self.hourlyAverageUSD))
    }
}

/// Which alerts hold now, from today's spend per budget, the budgets that refused a request
/// today (`refused`: scope id to the day of the refusal), and each scope's spend in the last hour against the 24 hours before it. Budgets of
/// teams, keys and the gateway as a whole (end users are too many to page anyone about).
struct BudgetAlertCheck: Sendable {
    let config: AlertsConfig
    let softLimitPercent: Double

    func alerts(
        today: SpendOverview.Overview, refused: [String: String], recent: [(keyID: String?, team: String?, recent: USD, before: USD)]
    ) -> [BudgetAlert] {
        var lastHour: [String: (recent: USD, before: USD)] = [:]
        func add(_ key: String, _ row: (keyID: String?, team: String?, recent: USD, before: USD)) {
            let sum = lastHour[key] ?? (.zero, .zero)
            lastHour[key] = (sum.recent + row.recent, sum.before + row.before)
        }
        for row in recent {
            add("global", row)
            if let team = row.team { add("team|" + team, row) }
            if let keyID = row.keyID { add("key|" + keyID, row) }
        }
        var alerts: [BudgetAlert] = []
        for budget in [today.global] + today.teams + today.keys where budget.budgetUSD != nil {
            let id = budget.kind == "global" ? "global" : "\(budget.kind)|\(budget.id ?? "")"
            let used = budget.usedPercent ?? 0
            if used >= 100 || refused[Self.scopeID(budget)] == budget.day {
                alerts.append(BudgetAlert(kind: .exhausted, budget: budget))
            } else if used >= self.softLimitPercent {
                alerts.append(BudgetAlert(kind: .softLimit, budget: budget))
            }
            if let hour = lastHour[id] {
                let average = USD(nanos: hour.before.nanos / 24)
                if hour.recent >= self.config.spikeMinimum, Double(hour.recent.nanos) > self.config.spikeMultiple * Double(average.nanos) {
                    alerts.append(BudgetAlert(kind: .spike, budget: budget, lastHourUSD: hour.recent.dollars, hourlyAverageUSD: average.dollars))
                }
            }
        }
        return alerts
    }

    /// The budget's storage id, as `BudgetRefusals` records it.
    static func scopeID(_ budget: SpendOverview.Entry) -> String {
        switch budget.kind {
        case "team": QuotaScope.teamID(budget.id ?? "")
        case "key": QuotaScope.keyID(budget.id ?? "")
        default: QuotaScope.globalID
        }
    }
}

/// The budgets that refused a request (429 `budget_exceeded`) on their current day: what
/// "exhausted" means even when the last request's reservation, not its cost, hit the limit.
final class BudgetRefusals: Sendable {
    private let refused = Mutex<[String: String]>([:])

    /// `scope` refused a request on `day`.
    func record(_ scope: QuotaScope, day: String) {
        self.refused.withLock { refused in
            if refused.count >= 10_000 { refused.removeAll() }  // scopes are few; bounds churn
            refused[scope.id] = day
        }
    }

    /// Scope id to the day of its latest refusal.
    var snapshot: [String: String] { self.refused.withLock { $0 } }
}
