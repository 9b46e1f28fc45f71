import Foundation
import HTTPTypes
import Testing
@testable import TollgateCore
import TollgateTestSupport
@testable import TollgateServer

/// The dashboard over HTTP: sign-in, the session cookie, what the page says, and that
/// nothing a client named can run in it. (scripts/integration/dashboard_browser_test.py
/// checks the page in a real browser.)
@Suite struct DashboardTests {
    static func signIn(_ gateway: GatewayHarness) async throws -> String {
        let reply = try await gateway.http.send(
            "POST", "/dashboard/sign-in", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Data("key=\(GatewayHarness.adminKey)".utf8)
        )
        #expect(reply.status == 303 && reply.header("Location") == "/dashboard")
        let cookie = try #require(reply.header("Set-Cookie"))
        return String(cookie.prefix { $0 != ";" })
    }

    @Test func withoutASessionThereIsOnlyTheSignInForm() async throws {
        try await GatewayHarness.run { gateway in
            let page = try await gateway.http.send("GET", "/dashboard")
            #expect(page.status == 200 && page.text.contains(#"<form method="post" action="/dashboard/sign-in">"#))
            #expect(!page.text.contains("data-figure"))
            // The admin key itself is not a session.
            let bearer = try await gateway.http.send("GET", "/dashboard", headers: [("Authorization", "Bearer \(GatewayHarness.adminKey)")])
            #expect(!bearer.text.contains("data-figure"))
            let wrong = try await gateway.http.send(
                "POST", "/dashboard/sign-in", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Data("key=guess".utf8)
            )
            #expect(wrong.status == 401 && wrong.header("Set-Cookie") == nil && wrong.text.contains("That is not the admin key."))
            #expect(try await gateway.http.send("GET", "/dashboard/reports.csv?by=team").status == 401)
            for cookie in ["tollgate_session=v1.9999999999.00.00", "tollgate_session=", "tollgate_session=v1.1.2.3.4"] {
                let forged = try await gateway.http.send("GET", "/dashboard", headers: [("Cookie", cookie)])
                #expect(!forged.text.contains("data-figure"), "\(cookie)")
            }
        }
        try await GatewayHarness.run(configure: { $0.adminKey = nil }) { gateway in
            let off = try await gateway.http.send("GET", "/dashboard")
            #expect(off.status == 403)
        }
    }

    @Test func signingInSetsAStrictHttpOnlyCookieAndSigningOutClearsIt() async throws {
        try await GatewayHarness.run { gateway in
            let reply = try await gateway.http.send(
                "POST", "/dashboard/sign-in", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Data("key=\(GatewayHarness.adminKey)".utf8)
            )
            let setCookie = try #require(reply.header("Set-Cookie"))
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/dashboard"))
            #expect(!setCookie.contains(GatewayHarness.adminKey) && reply.header("Location")?.contains(GatewayHarness.adminKey) == false)
            let cookie = String(setCookie.prefix { $0 != ";" })
            let page = try await gateway.http.send("GET", "/dashboard", headers: [("Cookie", cookie)])
            #expect(page.status == 200 && page.text.contains(#"data-figure="period-cost""#) && !page.text.contains(GatewayHarness.adminKey))
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true && page.header("Cache-Control") == "no-store")
            let out = try await gateway.http.send("POST", "/dashboard/sign-out", headers: [("Cookie", cookie)])
            #expect(out.status == 303 && out.header("Set-Cookie")?.contains("Max-Age=0") == true)
        }
    }

    @Test func sessionsExpireAndCannotBeForged() throws {
        let session = DashboardSession(adminKey: "k")
        let now = Date()
        let cookie = try #require(session.issue(now: now))
        func headers(_ value: String) -> HTTPFields { [.cookie: "a=b; \(DashboardSession.cookieName)=\(value)"] }
        #expect(session.isValid(headers(cookie), now: now))
        #expect(session.isValid(headers(cookie), now: now + DashboardSession.lifetime - 60))
        #expect(!session.isValid(headers(cookie), now: now + DashboardSession.lifetime + 1))
        #expect(!DashboardSession(adminKey: "other").isValid(headers(cookie), now: now))
        var parts = cookie.split(separator: ".").map(String.init)
        parts[1] = String(Int(parts[1])! + 3600)  // a later expiry with the old signature
        #expect(!session.isValid(headers(parts.joined(separator: ".")), now: now))
        #expect(DashboardSession(adminKey: nil).issue() == nil)
    }

    @Test func amountsReadWellAtEveryScale() {
        let cases: [(Int64, String)] = [
            (0, "$0.00"), (1_234_567_890_123, "$1,234.57"), (5_000_000_000, "$5.00"), (720_258_000, "$0.7203"),
            (12_345, "$0.000012"), (4_000, "$0.000004"), (-5_000_000_000, "-$5.00"), (1_000_000_000_000_000, "$1,000,000.00"),
        ]
        for (nanos, text) in cases { #expect(HTMLText.money(nanodollars: nanos) == text, "\(nanos)") }
        #expect(HTMLText.roundMoney(nanodollars: 500_000_000) == "$0.50" && HTMLText.roundMoney(nanodollars: 250_000) == "$0.00025")
        #expect(HTMLText.count(1_234_567) == "1,234,567" && HTMLText.count(999) == "999")
        #expect(HTMLText.escape(#"<a href="x">'&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
    }

    @Test func thePageShowsTheReportsFiguresAndEscapesNames() async throws {
        let limits = "teams:\n  qa: { daily_budget_usd: 0.5 }\n"
        try await GatewayHarness.run(budgets: ["limits.yaml": limits]) { gateway in
            #expect(try await gateway.chat(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#).status == 200)
            _ = try await LedgerTests.rows(in: gateway, count: 1)
            // Budgets are never overspent through the gateway; a row written behind its back
            // (another replica's ledger, a budget lowered later) shows what over budget looks like.
            let hostile = #"<script>alert("x")</script>"#
            let ledger = try #require(try LedgerDatabase.openIfPresent(path: gateway.dataDirectory + "/ledger.sqlite"))
            let key = try #require(try await gateway.keyStore.list().first?.key)
            try await ledger.write([LedgerEntry(
                    timeMs: LedgerEntry.milliseconds(Date()), requestID: "seeded", keyID: key.id, team: "qa", user: hostile, route: "default",
                    requestedModel: "gpt-4o", servedModel: "gpt-4o", provider: "openai", inputTokens: 1_000, outputTokens: 100,
                costNanodollars: 600_000_000, httpStatus: 200, latencyMs: 900
            )], storeText: false)
            let cookie = try await Self.signIn(gateway)
            let page = try await gateway.http.send("GET", "/dashboard?period=today&stack=model", headers: [("Cookie", cookie)])
            #expect(page.status == 200)
            #expect(!page.text.contains("<script") && page.text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))

            let today = LedgerDay(containing: Date(), in: .current)
            let report: LedgerReport = try await ledger.report(.init(grouping: .day, from: today, to: today, timeZone: .current))
            let exact = LedgerReport.formatUSD(nanodollars: report.total.costNanodollars)
            #expect(page.text.contains(#"data-figure="period-cost" data-usd="\#(exact)""#))
            #expect(page.text.contains(#"data-figure="today-cost" data-usd="\#(exact)""#))
            // The team is past its (tiny) budget: said first, in red.
            #expect(page.text.contains(#"<p class="over" data-alert="team:qa">"#))

            let csv = try await gateway.http.send("GET", "/dashboard/reports.csv?by=user&from=\(today)&to=\(today)", headers: [("Cookie", cookie)])
            let byUser: LedgerReport = try await ledger.report(.init(grouping: .dimension(.user), from: today, to: today, timeZone: .current))
            #expect(csv.status == 200 && csv.text == byUser.csv())
            #expect(try await gateway.http.send("GET", "/dashboard?period=year", headers: [("Cookie", cookie)]).status == 400)
        }
    }
}
