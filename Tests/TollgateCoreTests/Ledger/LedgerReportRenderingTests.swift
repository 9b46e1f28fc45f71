import Foundation
import Testing
@testable import TollgateCore

@Suite struct LedgerReportRenderingTests {
    let report = LedgerReport(
        query: .init(grouping: .dimension(.user)),
        rows: [
            .init(group: "o'brien, jr.", requests: 2, errors: 1, cacheHits: 1, inputTokens: 10, cachedInputTokens: 2,
                  outputTokens: 3, costNanodollars: 12_345_678_999, latencySumMs: 3, p95LatencyMs: 2),
            .init(group: "say \"hi\"", requests: 1, costNanodollars: 1_500, latencySumMs: 10, p95LatencyMs: 10),
            .init(group: "two\nlines", requests: 1, costNanodollars: 499, latencySumMs: 1, p95LatencyMs: 1),
            .init(group: "plain", requests: 1),
            .init(group: nil, requests: 1),
        ],
        total: .init(group: nil, requests: 6, errors: 1, cacheHits: 1, inputTokens: 10, cachedInputTokens: 2,
                     outputTokens: 3, costNanodollars: 12_345_680_998, latencySumMs: 14, p95LatencyMs: 10)
    )

    @Test func csvQuotesOddNamesPerRFC4180() {
        let lines = self.report.csv().components(separatedBy: "\r\n")
        #expect(lines == [
            "user,requests,errors,cache_hits,input_tokens,cached_input_tokens,output_tokens,cost_usd,avg_latency_ms,p95_latency_ms",
            "\"o'brien, jr.\",2,1,1,10,2,3,12.345679,1.5,2",
            "\"say \"\"hi\"\"\",1,0,0,0,0,0,0.000002,10.0,10",
            "\"two\nlines\",1,0,0,0,0,0,0.000000,1.0,1",
            "plain,1,0,0,0,0,0,0.000000,0.0,",
            ",1,0,0,0,0,0,0.000000,0.0,",
            "",
        ])
    }

    /// A client-chosen user id must not become a formula in finance's spreadsheet.
    @Test func csvDefusesNamesASpreadsheetWouldRun() {
        let names = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "a=b", "-"]
        let report = LedgerReport(
            query: .init(grouping: .dimension(.user)), rows: names.map { LedgerReport.Row(group: $0, requests: 1) },
            total: .init(group: nil, requests: names.count)
        )
        let groups = report.csv().components(separatedBy: "\r\n").dropFirst().prefix(names.count).map { $0.components(separatedBy: ",1,")[0] }
        #expect(groups == [#""'=HYPERLINK(""http://x"",""y"")""#, "'+1", "'-2+3", "'@SUM(A1)", "'\tcmd", "\"'\rcmd\"", "a=b", "'-"])
        // JSON keeps names exactly: it is read by programs, not spreadsheets.
        #expect(report.json().contains(#""user": "=HYPERLINK(\"http://x\",\"y\")""#))
    }

    @Test func jsonIsAnArrayOfObjectsWithStableKeys() throws {
        let text = self.report.json()
        #expect(text.contains(#""cost_usd": 12.345679"#))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(parsed.count == 5)
        #expect(Set(parsed[0].keys) == Set(self.report.columnNames))
        #expect(parsed[0]["user"] as? String == "o'brien, jr.")
        #expect(parsed[1]["user"] as? String == "say \"hi\"")
        #expect(parsed[2]["user"] as? String == "two\nlines")
        #expect(parsed[4]["user"] is NSNull)
        #expect(parsed[3]["p95_latency_ms"] is NSNull)
        #expect((parsed[0]["requests"] as? NSNumber)?.intValue == 2)
        #expect((parsed[0]["cost_usd"] as? NSNumber)?.doubleValue == 12.345679)
        #expect(LedgerReport(query: .init(grouping: .day), rows: [], total: .init(group: nil)).json() == "[]\n")
    }

    @Test func tableIsAlignedWithATotalRow() {
        let lines = self.report.table().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 1 + 5 + 2 + 1)  // header, rows, rule, total, final newline
        #expect(lines[0].hasPrefix("USER "))
        #expect(lines[2].hasPrefix("say \"hi\" "))
        #expect(lines[3].hasPrefix("two?lines "))  // one line per row
        #expect(lines[5].hasPrefix("(none) "))
        #expect(lines[7].hasPrefix("TOTAL "))
        #expect(lines[7].contains("12.345681"))
        let widths = Set(lines.dropLast().map(\.count))
        #expect(widths.count == 1, "every line as wide as the header: \(lines)")
    }

    @Test func costsHaveSixDecimalsFromIntegers() {
        #expect(LedgerReport.formatUSD(nanodollars: 0) == "0.000000")
        #expect(LedgerReport.formatUSD(nanodollars: 499) == "0.000000")
        #expect(LedgerReport.formatUSD(nanodollars: 500) == "0.000001")
        #expect(LedgerReport.formatUSD(nanodollars: 1_000_000_000) == "1.000000")
        #expect(LedgerReport.formatUSD(nanodollars: 9_223_372_036_854_775_807) == "9223372036.854776")
        #expect(LedgerReport.formatUSD(nanodollars: -1_500) == "-0.000002")
    }
}
