import ArgumentParser
import Foundation
import TollgateCore

/// `tollgate report`: requests, tokens, cost and savings from the ledger, per period, user,
/// team, key, model, route, provider or tag, or per pair of these.
extension LedgerReport.Period: ExpressibleByArgument {}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print requests, tokens, cost and savings from the request ledger.",
        discussion: """
            Days are counted in the gateway's time_zone (tollgate.yaml; default the local zone). --from and --to are inclusive. \
            --by takes one to three columns, e.g. --by team,model; --period adds (or sets) the time column.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    @OptionGroup var options: ConfigOption
    @Option(help: "Group by: day, week, month, user, team, key, model, route, provider or tag:NAME; two or three with commas (team,model).")
    var by: String?
    @Option(help: "day, week (from Monday) or month: the time column (added in front when --by has none).")
    var period: LedgerReport.Period?
    @Option(help: "First day included (YYYY-MM-DD).") var from: String?
    @Option(help: "Last day included (YYYY-MM-DD).") var to: String?
    @Flag(help: "Add what cache hits and routing saved and what fallbacks and errors cost.") var savings = false
    @Option(help: "table (aligned, with totals), csv (RFC 4180) or json.") var format: Format = .table

    func validate() throws {
        _ = try self.groupings()
        let (from, to) = try self.days()
        if let from, let to, from > to {
            throw ValidationError("--from \(from) is after --to \(to)")
        }
    }

    func run() async throws {
        let (config, path) = try self.ledgerLocation()
        let (from, to) = try self.days()
        let groupings = try self.groupings()
        let query = LedgerReport.Query(
            grouping: groupings[0], thenBy: Array(groupings.dropFirst()), from: from, to: to, timeZone: config.timeZone, savings: self.savings
        )
        let report: LedgerReport
        do {
            report = try await ConfiguredLedger.read(config) { ledger in
                try await ledger?.report(query) ?? LedgerReport(query: query, rows: [], total: .init(group: nil))
            }
        } catch {
            throw CommandFailure.runtime("cannot read the ledger '\(config.ledger.url?.description ?? path)': \(error)")
        }
        switch self.format {
        case .table: print(report.table(), terminator: "")
        case .csv: print(report.csv(), terminator: "")
        case .json: print(report.json(), terminator: "")
        }
    }

    private func groupings() throws -> [LedgerReport.Grouping] {
        do {
            return try LedgerReport.Query.groupings(by: self.by, period: self.period)
        } catch {
            throw ValidationError(error.description)
        }
    }

    private func days() throws -> (from: LedgerDay?, to: LedgerDay?) {
        func parse(_ text: String?, _ option: String) throws -> LedgerDay? {
            guard let text else { return nil }
            guard let day = LedgerDay(text) else {
                throw ValidationError("\(option) '\(text)' is not a date (use YYYY-MM-DD, e.g. 2025-03-09)")
            }
            return day
        }
        return (try parse(self.from, "--from"), try parse(self.to, "--to"))
    }

    /// The config (for the time zone) and the ledger file. Without a config file: the
    /// defaults, with TOLLGATE_DATA_DIR as the data dir.
    private func ledgerLocation() throws -> (GatewayConfig, String) {
        let config = try self.options.loadOrDefaults(environment: ProcessInfo.processInfo.environment)
        return (config, config.ledgerPath)
    }
}
