import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

/// `GET /dashboard` (the page, or the sign-in form without a session), `POST
/// /dashboard/sign-in`, `POST /dashboard/sign-out` and `GET /dashboard/reports.csv` (the CSV
/// exports the page links to, for the signed-in browser). Off, like the admin API, while no
/// admin key is set.
struct DashboardController {
    let authorization: AdminAuthorization
    let session: DashboardSession
    let ledger: (any LedgerStore)?
    let overview: SpendOverview
    let keys: KeyStore
    let declaredKeys: [GatewayKey]
    let timeZone: TimeZone

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.get("/dashboard") { request, _ in
            guard self.authorization.isEnabled else { return Self.page(DashboardPage.disabled, status: .forbidden) }
            guard self.session.isValid(request.headers) else { return Self.page(DashboardPage.signIn()) }
            let parameters = request.uri.queryParameters
            guard let period = DashboardData.Period(rawValue: parameters["period"].map(String.init) ?? "7d"),
                let stack = DashboardData.Stack(rawValue: parameters["stack"].map(String.init) ?? "team")
            else {
                return Self.page(DashboardPage.document(title: "Tollgate", body: "<main class=\"signin\"><p>period is today, 7d or 30d; stack is team or model.</p></main>"), status: .badRequest)
            }
            let keys = try await self.keys.list().map(\.key) + self.declaredKeys
            let data = try await DashboardData.load(
                period: period, stack: stack, ledger: self.ledger, overview: self.overview, keys: keys, timeZone: self.timeZone
            )
            return Self.page(DashboardPage(data: data, softLimitPercent: self.overview.limits.softLimitPercent).html())
        }
        router.post("/dashboard/sign-in") { request, _ in
            guard self.authorization.isEnabled else { return Self.page(DashboardPage.disabled, status: .forbidden) }
            let body = try await request.body.collect(upTo: 4096)
            let key = Self.formValue("key", in: String(buffer: body))
            guard let key, self.authorization.accepts(key), let cookie = self.session.issue() else {
                return Self.page(DashboardPage.signIn(error: "That is not the admin key."), status: .unauthorized)
            }
            let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
            return Response(status: .seeOther, headers: [.location: "/dashboard", .setCookie: DashboardSession.setCookie(cookie, secure: secure), .cacheControl: "no-store"])
        }
        router.post("/dashboard/sign-out") { _, _ in
            Response(status: .seeOther, headers: [.location: "/dashboard", .setCookie: DashboardSession.clearCookie, .cacheControl: "no-store"])
        }
        router.get("/dashboard/reports.csv") { request, _ in
            guard self.authorization.isEnabled, self.session.isValid(request.headers) else {
                throw GatewayError(status: 401, type: "invalid_request_error", code: "not_signed_in", message: "Sign in at /dashboard first.")
            }
            let query = try AdminReportsController.query(request.uri.queryParameters, timeZone: self.timeZone)
            let report: LedgerReport = try await self.ledger?.report(query) ?? LedgerReport(query: query, rows: [], total: .init(group: nil))
            let name = "tollgate-" + query.groupings.map(\.rawValue).joined(separator: "-").replacingOccurrences(of: ":", with: "_") + ".csv"
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name)\"", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: report.csv()))
            )
        }
    }

    /// An HTML page that nothing may frame, script or cache.
    static func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
        ]
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// One field of an `application/x-www-form-urlencoded` body.
    static func formValue(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
