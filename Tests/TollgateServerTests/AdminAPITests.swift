import Foundation
import Testing
@testable import TollgateCore
import TollgateTestSupport
@testable import TollgateServer

/// The admin API: keys for automation, the reports of `tollgate report`, today's spend
/// against each budget; all behind the admin key.
@Suite struct AdminAPITests {
    static let admin = [("Authorization", "Bearer \(GatewayHarness.adminKey)")]

    static func object(_ reply: TestHTTPClient.Reply) throws -> [String: Any] {
        try #require(reply.json, "not a JSON object: \(reply.text)")
    }

    @Test func everyAdminPathWantsTheAdminKey() async throws {
        try await GatewayHarness.run { gateway in
            let paths = [("GET", "/admin/keys"), ("POST", "/admin/keys"), ("DELETE", "/admin/keys/key_x"), ("GET", "/admin/spend"),
                         ("GET", "/admin/reports?by=team"), ("POST", "/admin/reload")]
            for (method, path) in paths {
                let none = try await gateway.http.send(method, path)
                #expect(none.status == 401, "\(method) \(path)")
                let wrong = try await gateway.http.send(method, path, headers: [("Authorization", "Bearer admin-test-secreT")])
                #expect(wrong.status == 401 && wrong.errorField.code == "invalid_admin_key", "\(method) \(path)")
                // A gateway key is not the admin key.
                let client = try await gateway.http.send(method, path, headers: gateway.auth)
                #expect(client.status == 401, "\(method) \(path)")
            }
        }
        try await GatewayHarness.run(configure: { $0.adminKey = nil }) { gateway in
            for path in ["/admin/keys", "/admin/spend", "/admin/reports?by=day"] {
                let off = try await gateway.http.send("GET", path, headers: Self.admin)
                #expect(off.status == 403 && off.errorField.code == "admin_disabled", "\(path)")
            }
        }
    }

    @Test func keysAreCreatedListedAndRevoked() async throws {
        try await GatewayHarness.run { gateway in
            let body = #"{"name":"ci-bot","team":"platform","models":["gpt-4o-mini"],"rpm":30,"daily_budget_usd":2.5}"#
            let created = try await gateway.http.send("POST", "/admin/keys", headers: Self.admin, body: Data(body.utf8))
            #expect(created.status == 201, "\(created.text)")
            let key = try Self.object(created)
            let id = try #require(key["id"] as? String), secret = try #require(key["secret"] as? String)
            #expect(key["name"] as? String == "ci-bot" && key["team"] as? String == "platform" && key["rpm"] as? Int == 30)
            #expect(key["models"] as? [String] == ["gpt-4o-mini"] && key["daily_budget_usd"] as? Double == 2.5 && key["status"] as? String == "active")
            #expect((key["secret_prefix"] as? String).map(secret.hasPrefix) == true)

            // The new key works at once, within what it allows.
            let auth = [("Authorization", "Bearer \(secret)"), ("Content-Type", "application/json")]
            let ok = try await gateway.http.send("POST", "/v1/chat/completions", headers: auth, body: Data(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(ok.status == 200)
            let other = try await gateway.http.send("POST", "/v1/chat/completions", headers: auth, body: Data(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(other.status == 403)

            let listed = try Self.object(try await gateway.http.send("GET", "/admin/keys", headers: Self.admin))
            let keys = try #require(listed["data"] as? [[String: Any]])
            #expect(keys.count == 2 && keys.contains { $0["id"] as? String == id })
            #expect(keys.allSatisfy { $0["secret"] == nil })

            let revoked = try await gateway.http.send("DELETE", "/admin/keys/\(id)", headers: Self.admin)
            #expect(try revoked.status == 200 && Self.object(revoked)["status"] as? String == "revoked")
            // Refused at once on this gateway, though the key was just used (and cached).
            let refused = try await gateway.http.send("POST", "/v1/chat/completions", headers: auth, body: Data(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(refused.status == 401)
            let again = try Self.object(try await gateway.http.send("GET", "/admin/keys", headers: Self.admin))
            #expect((again["data"] as? [[String: Any]])?.first { $0["id"] as? String == id }?["status"] as? String == "revoked")
            #expect(try await gateway.http.send("DELETE", "/admin/keys/key_nope", headers: Self.admin).status == 404)
        }
    }

    @Test func badKeyRequestsNameTheField() async throws {
        try await GatewayHarness.run { gateway in
            let cases: [(body: String, param: String?)] = [
                (#"{"team":"x"}"#, "name"),
                (#"{"name":"a","rpm":0}"#, "rpm"),
                (#"{"name":"a","rpm":"many"}"#, "rpm"),
                (#"{"name":"a","daily_budget_usd":-1}"#, "daily_budget_usd"),
                (#"{"name":"a","user":"bad\u0000user"}"#, "user"),
                (#"{"name":"a","models":[]}"#, "models"),
                (#"{"name":"a","colour":"red"}"#, "colour"),
                (#"{"name":"a","name":"b"}"#, nil),
                (#"{"name":"#, nil),
                (#"["ci-bot"]"#, nil),
            ]
            for (body, param) in cases {
                let reply = try await gateway.http.send("POST", "/admin/keys", headers: Self.admin, body: Data(body.utf8))
                #expect(reply.status == 400, "\(body): \(reply.status) \(reply.text)")
                let error = try #require((try Self.object(reply))["error"] as? [String: Any])
                #expect(error["param"] as? String == param, "\(body): \(reply.text)")
            }
            let listed = try Self.object(try await gateway.http.send("GET", "/admin/keys", headers: Self.admin))
            #expect((listed["data"] as? [[String: Any]])?.count == 1)  // only the harness's own key
        }
    }

    @Test func reportsAreTheCommandLinesRows() async throws {
        try await GatewayHarness.run { gateway in
            for (model, user) in [("gpt-4o-mini", "ann"), ("gpt-4o", "ann"), ("gpt-4o-mini", "bo")] {
                let reply = try await gateway.chat(#"{"model":"\#(model)","user":"\#(user)","messages":[{"role":"user","content":"hello"}]}"#)
                #expect(reply.status == 200)
            }
            _ = try await LedgerTests.rows(in: gateway, count: 3)
            let ledger = try #require(try LedgerDatabase.openIfPresent(path: gateway.dataDirectory + "/ledger.sqlite"))
            let zone = TimeZone.current
            let query = LedgerReport.Query(grouping: .dimension(.user), thenBy: [.dimension(.model)], timeZone: zone, savings: true)
            let expected: LedgerReport = try await ledger.report(query)
            #expect(expected.rows.count == 3)

            let json = try await gateway.http.send("GET", "/admin/reports?by=user,model&savings=true", headers: Self.admin)
            #expect(json.status == 200 && json.header("Content-Type") == "application/json")
            #expect(json.text == expected.json())
            let csv = try await gateway.http.send("GET", "/admin/reports?by=user,model&savings=1&format=csv", headers: Self.admin)
            #expect(csv.status == 200 && csv.header("Content-Type")?.hasPrefix("text/csv") == true)
            #expect(csv.text == expected.csv())
            let today = LedgerDay(containing: Date(), in: zone).description
            let byDay = try await gateway.http.send("GET", "/admin/reports?period=month&by=team&from=\(today)&to=\(today)", headers: Self.admin)
            #expect(byDay.text == (try await ledger.report(.init(grouping: .period(.month), thenBy: [.dimension(.team)], from: LedgerDay(today), to: LedgerDay(today), timeZone: zone)) as LedgerReport).json())

            for (path, param) in [("/admin/reports?by=colour", "by"), ("/admin/reports", "by"), ("/admin/reports?by=day&format=xml", "format"),
                                  ("/admin/reports?by=day&from=2025-13-01", "from"), ("/admin/reports?by=day&from=2025-02-02&to=2025-02-01", "from"),
                                  ("/admin/reports?by=day&period=year", "period"), ("/admin/reports?by=day&savings=maybe", "savings")] {
                let bad = try await gateway.http.send("GET", path, headers: Self.admin)
                #expect(bad.status == 400, "\(path)")
                #expect(try (Self.object(bad)["error"] as? [String: Any])?["param"] as? String == param, "\(path): \(bad.text)")
            }
        }
    }

    @Test func spendShowsEachBudgetWithWhatIsLeftAndWhenItResets() async throws {
        // Budget days in a zone where it is now about noon, so the requests and the reading
        // fall on the same day whenever the test runs.
        let utcHour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).hour!
        let offset = (12 - utcHour + 36) % 24 - 12  // hours east of UTC, -12...11
        let zone = offset == 0 ? "UTC" : "Etc/GMT\(offset > 0 ? "-" : "+")\(abs(offset))"  // Etc/GMT signs are inverted
        let limits = """
            time_zone: \(zone)
            global: { daily_budget_usd: 100 }
            teams:
              qa: { daily_budget_usd: 10 }
              idle: { daily_budget_usd: 5, time_zone: Asia/Tokyo }
            users:
              "*": { daily_budget_usd: 1 }
            """
        try await GatewayHarness.run(budgets: ["limits.yaml": limits], keyLimits: (nil, nil, nil, 3)) { gateway in
            // Different prompts: a cache hit would cost nothing.
            for (index, user) in ["ann", "ann", "bo"].enumerated() {
                #expect(try await gateway.chat(#"{"model":"gpt-4o","user":"\#(user)","messages":[{"role":"user","content":"hello \#(index)"}]}"#).status == 200)
            }
            let rows = try await LedgerTests.rows(in: gateway, count: 3)
            let total = rows.reduce(Int64(0)) { $0 + $1.costNanodollars }
            let ann = rows.filter { $0.user == "ann" }.reduce(Int64(0)) { $0 + $1.costNanodollars }
            #expect(rows.allSatisfy { $0.costNanodollars > 0 })

            let spend = try Self.object(try await gateway.http.send("GET", "/admin/spend", headers: Self.admin))
            let tomorrow = ISO8601DateFormatter().string(from: BudgetDay(containing: Date(), in: TimeZone(identifier: zone)!).resetsAt)
            let global = try #require(spend["global"] as? [String: Any])
            #expect(global["spent_nanodollars"] as? Int64 == total && global["budget_usd"] as? Double == 100)
            #expect(global["resets_at"] as? String == tomorrow && global["kind"] as? String == "global")
            #expect(global["remaining_usd"] as? Double == USD(nanos: 100_000_000_000 - total).dollars)

            let teams = try #require(spend["teams"] as? [[String: Any]])
            #expect(teams.map { $0["id"] as? String } == ["qa", "idle"])  // by spend; budgeted teams appear before they spend
            #expect(teams[0]["spent_nanodollars"] as? Int64 == total && teams[0]["budget_usd"] as? Double == 10)
            let idleReset = ISO8601DateFormatter().string(from: BudgetDay(containing: Date(), in: TimeZone(identifier: "Asia/Tokyo")!).resetsAt)
            #expect(teams[1]["spent_nanodollars"] as? Int64 == 0 && teams[1]["resets_at"] as? String == idleReset && teams[1]["used_pct"] as? Double == 0)

            let keys = try #require(spend["keys"] as? [[String: Any]])
            #expect(keys.count == 1 && keys[0]["name"] as? String == "test-app" && keys[0]["budget_usd"] as? Double == 3)
            #expect(keys[0]["spent_nanodollars"] as? Int64 == total)

            let users = try #require(spend["users"] as? [[String: Any]], "\(spend)")
            #expect(users.map { $0["id"] as? String } == ["ann", "bo"])
            #expect(users[0]["spent_nanodollars"] as? Int64 == ann && users[0]["team"] as? String == "qa" && users[0]["budget_usd"] as? Double == 1)

            let top1 = try Self.object(try await gateway.http.send("GET", "/admin/spend?top=1", headers: Self.admin))
            #expect((top1["users"] as? [[String: Any]])?.count == 1 && (top1["omitted"] as? [String: Int]) == ["users": 1, "teams": 1])
            #expect(try await gateway.http.send("GET", "/admin/spend?top=0", headers: Self.admin).status == 400)
        }
    }
}
