import CoreMetrics
import Logging
import TollgateCore

/// Today's spend against each daily budget (teams, keys, the gateway as a whole; end users
/// are too many for labels), as gauges read from the ledger at each scrape:
/// `tollgate_budget_spent_usd`, `tollgate_budget_limit_usd` and `tollgate_budget_used_ratio`,
/// labelled `kind`, `id` and `name`. What Deploy/prometheus/alerts.yaml alerts on.
struct BudgetGauges: Sendable {
    let overview: SpendOverview
    let ledger: (any LedgerStore)?
    let keys: KeyStore
    let declaredKeys: [GatewayKey]
    let logger: Logger

    func record() async {
        guard let ledger = self.ledger else { return }
        do {
            let keys = try await self.keys.list().map(\.key) + self.declaredKeys
            let today = try await self.overview.make(ledger: ledger, keys: keys, top: .max)
            for entry in [today.global] + today.teams + today.keys {
                guard let budget = entry.budgetUSD, budget > 0 else { continue }
                let dimensions = [("kind", entry.kind), ("id", entry.id ?? "global"), ("name", entry.name ?? entry.id ?? "global")]
                Gauge(label: "tollgate_budget_spent_usd", dimensions: dimensions).record(entry.spentUSD)
                Gauge(label: "tollgate_budget_limit_usd", dimensions: dimensions).record(budget)
                Gauge(label: "tollgate_budget_used_ratio", dimensions: dimensions).record(entry.spentUSD / budget)
            }
        } catch {
            // The scrape still answers with everything else.
            self.logger.warning("could not read today's spend for the budget gauges", metadata: ["error": "\(error)"])
        }
    }
}
