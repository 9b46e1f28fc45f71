import Foundation
import TollgateCore

/// Everything the dashboard shows for one period, read from the ledger with the same queries
/// as `tollgate report` (so every figure equals the report's for the same days), plus today's
/// budgets from `SpendOverview`.
struct DashboardData: Sendable {
    /// The period picker's choices: the last N calendar days in the gateway's time zone,
    /// today included.
    enum Period: String, Sendable, CaseIterable {
        case today
        case week = "7d"
        case month = "30d"

        var days: Int {
            switch self {
            case .today: 1
            case .week: 7
            case .month: 30
            }
        }

        var label: String {
            switch self {
            case .today: "Today"
            case .week: "7 days"
            case .month: "30 days"
            }
        }
    }

    /// What the spend chart stacks each day's bar by.
    enum Stack: String, Sendable, CaseIterable {
        case team, model

        var dimension: LedgerReport.Dimension { self == .team ? .team : .model }
    }

    var period: Period
    var stack: Stack
    var from: LedgerDay
    var to: LedgerDay
    /// All requests of the period, with savings.
    var total: LedgerReport.Row
    /// Today (the last day of the period).
    var today: LedgerReport.Row
    /// Per day, then per team or model.
    var byDay: LedgerReport
    var byTeam: LedgerReport
    var byUser: LedgerReport
    /// Requested model (or alias), then the model that answered.
    var routingMix: LedgerReport
    var budgets: SpendOverview.Overview

    /// Reads the period ending today (in `timeZone`) from `ledger`.
    static func load(
        period: Period, stack: Stack, ledger: (any LedgerStore)?, overview: SpendOverview, keys: [GatewayKey], timeZone: TimeZone,
        now: Date = Date()
    ) async throws -> DashboardData {
        let to = LedgerDay(containing: now, in: timeZone)
        var from = to
        for _ in 1..<period.days { from = from.previous }
        func report(_ groupings: [LedgerReport.Grouping], from: LedgerDay, savings: Bool = false) async throws -> LedgerReport {
            let query = LedgerReport.Query(
                grouping: groupings[0], thenBy: Array(groupings.dropFirst()), from: from, to: to, timeZone: timeZone, savings: savings
            )
            guard let ledger else { return LedgerReport(query: query, rows: [], total: .init(group: nil)) }
            return try await ledger.report(query)
        }
        let byDay = try await report([.day, .dimension(stack.dimension)], from: from, savings: true)
        return DashboardData(
            period: period, stack: stack, from: from, to: to, total: byDay.total,
            today: try await report([.day], from: to).total,
            byDay: byDay,
            byTeam: try await report([.dimension(.team)], from: from),
            byUser: try await report([.dimension(.user)], from: from),
            routingMix: try await report([.dimension(.requestedModel), .dimension(.model)], from: from),
            budgets: try await overview.make(ledger: ledger, keys: keys, top: 20, now: now)
        )
    }
}
