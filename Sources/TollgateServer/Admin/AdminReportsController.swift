import Foundation
import Hummingbird
import NIOCore
import TollgateCore

/// `GET /admin/reports?by=&period=&from=&to=&savings=&format=json|csv`: the rows of
/// `tollgate report` for the same arguments, byte for byte (`format=json` by default).
struct AdminReportsController {
    let authorization: AdminAuthorization
    let ledger: (any LedgerStore)?
    let timeZone: TimeZone

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.get("/admin/reports") { request, _ in
            try self.authorization.check(request)
            let query = try Self.query(request.uri.queryParameters, timeZone: self.timeZone)
            let format = request.uri.queryParameters["format"].map(String.init) ?? "json"
            guard format == "json" || format == "csv" else {
                throw GatewayError.invalidRequest("format must be json or csv (got '\(format.prefix(32))').", param: "format", code: "invalid_parameter")
            }
            guard let ledger = self.ledger else {
                throw GatewayError(status: 404, type: "invalid_request_error", code: "ledger_disabled", message: "The ledger is off (ledger.enabled: false): there is nothing to report.")
            }
            let report: LedgerReport = try await ledger.report(query)
            if format == "csv" {
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: #"attachment; filename="tollgate-report.csv""#],
                    body: .init(byteBuffer: ByteBuffer(string: report.csv()))
                )
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: report.json())))
        }
    }

    /// The report the parameters ask for, or the 400 naming the bad one.
    static func query(_ parameters: Parameters, timeZone: TimeZone) throws(GatewayError) -> LedgerReport.Query {
        func text(_ name: String) -> String? { parameters[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        var period: LedgerReport.Period?
        if let value = text("period") {
            guard let parsed = LedgerReport.Period(rawValue: value) else {
                throw GatewayError.invalidRequest("period must be day, week or month.", param: "period", code: "invalid_parameter")
            }
            period = parsed
        }
        let groupings: [LedgerReport.Grouping]
        do {
            groupings = try LedgerReport.Query.groupings(by: text("by"), period: period)
        } catch {
            throw GatewayError.invalidRequest(error.description + ".", param: "by", code: "invalid_parameter")
        }
        func day(_ name: String) throws(GatewayError) -> LedgerDay? {
            guard let value = text(name) else { return nil }
            guard let day = LedgerDay(value) else {
                throw GatewayError.invalidRequest("\(name) must be a date, YYYY-MM-DD.", param: name, code: "invalid_parameter")
            }
            return day
        }
        let from = try day("from"), to = try day("to")
        if let from, let to, from > to {
            throw GatewayError.invalidRequest("from \(from) is after to \(to).", param: "from", code: "invalid_parameter")
        }
        let savings: Bool
        switch text("savings") {
        case nil, "false", "0": savings = false
        case "true", "1": savings = true
        default: throw GatewayError.invalidRequest("savings must be true or false.", param: "savings", code: "invalid_parameter")
        }
        return LedgerReport.Query(
            grouping: groupings[0], thenBy: Array(groupings.dropFirst()), from: from, to: to, timeZone: timeZone, savings: savings
        )
    }
}
