import Foundation
import Testing
import TollgateCore
import TollgateTestSupport

/// Deploy/prometheus/alerts.yaml: valid for Prometheus, each alert raised by the series it is
/// about (promtool's own unit tests, alerts.test.yaml), and every metric it reads exported by
/// a running gateway under that name.
@Suite struct AlertRulesTests {
    static let directory = GatewayHarness.repositoryRoot.appendingPathComponent("Deploy/prometheus").path

    /// Runs promtool (Debian's prometheus package; scripts/test.sh installs it) on a thread of
    /// its own: waiting for it must not hold one of the few threads the other tests run on.
    static func promtool(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let path = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let executable = try #require(path, "promtool is not installed (apt-get install prometheus)")
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.currentDirectoryURL = URL(fileURLWithPath: Self.directory)
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                do {
                    try process.run()
                    let output = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: (process.terminationStatus, String(decoding: output, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    @Test func promtoolAcceptsTheRulesAndTheirUnitTests() async throws {
        let check = try await Self.promtool(["check", "rules", "alerts.yaml"])
        #expect(check.status == 0, "\(check.output)")
        let test = try await Self.promtool(["test", "rules", "alerts.test.yaml"])
        #expect(test.status == 0 && test.output.contains("SUCCESS"), "\(test.output)")
    }

    @Test func everyMetricTheRulesReadIsExported() async throws {
        let rules = try String(contentsOfFile: Self.directory + "/alerts.yaml", encoding: .utf8)
        let names = Set(rules.matches(of: /tollgate_[a-z_]+/).map { String($0.output) })
        #expect(names.count == 6, "\(names)")  // budgets, spend, requests, fallbacks, cache lookups, ledger
        let limits = "teams:\n  qa: { daily_budget_usd: 2 }\nglobal: { daily_budget_usd: 50 }\n"
        try await GatewayHarness.run(budgets: ["limits.yaml": limits], configure: { config in
            config.providers["dead"] = ProviderConfig(baseURL: "http://127.0.0.1:1/v1", apiKeyEnvironmentVariable: "TEST_OPENAI_KEY")
        }) { gateway in
            // A request answered after a retry: spend, a cache lookup, a fallback step.
            try gateway.writeRoutes(FallbackChainTests.routes)
            #expect(try await gateway.adminReload().status == 200)
            gateway.provider.setBehavior(.sequence([.error(status: 503, type: "server_error", code: nil, message: "down"), .normal]), forModel: "gpt-5")
            let reply = try await gateway.chat(FallbackChainTests.ask("gpt-5"))
            #expect(reply.status == 200 && reply.header("X-Tollgate-Fallback") == "retry")
            let row = try await FallbackChainTests.row(gateway, for: reply)

            let scraped = try await gateway.http.send("GET", "/metrics").text
            for name in names.sorted() {
                #expect(scraped.contains("\n\(name){") || scraped.contains("\n\(name) "), "\(name) is not exported")
            }
            // The team's budget gauge is today's spend over its budget.
            let ratio = try #require(scraped.split(separator: "\n").first { $0.hasPrefix(#"tollgate_budget_used_ratio{kind="team",id="qa",name="qa"}"#) })
            let value = try #require(Double(ratio.split(separator: " ").last ?? ""))
            #expect(abs(value - Double(row.costNanodollars) / 2e9) < 1e-12, "\(ratio)")
        }
    }
}
