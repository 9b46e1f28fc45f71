import Foundation

/// The three output formats of `tollgate report`. Every format has the same columns, named
/// after the groupings first (`day`, `team`, `tag:env`...), then the sums, then with
/// `--savings` what was saved and lost; costs have 6 decimals, computed from the integer
/// nanodollars (no floating point on the way).
extension LedgerReport {
    /// The column names of CSV and JSON, in order.
    public var columnNames: [String] {
        self.query.groupings.map(\.rawValue) + Self.valueColumnNames + (self.query.savings ? Self.savingsColumnNames : [])
    }

    static let valueColumnNames = [
        "requests", "errors", "cache_hits", "input_tokens", "cached_input_tokens", "output_tokens",
        "cost_usd", "avg_latency_ms", "p95_latency_ms",
    ]

    static let savingsColumnNames = ["cache_saved_usd", "routing_saved_usd", "fallback_cost_usd", "error_cost_usd"]

    /// Aligned text for people: text left, numbers right, and a TOTAL row.
    public func table() -> String {
        var header = self.query.groupings.map { $0.rawValue.uppercased() }
        header += ["REQUESTS", "ERRORS", "CACHE HITS", "INPUT TOK", "CACHED TOK", "OUTPUT TOK", "COST USD", "AVG MS", "P95 MS"]
        if self.query.savings { header += ["CACHE SAVED", "ROUTING SAVED", "FALLBACK COST", "ERROR COST"] }
        let groupColumns = self.query.groupings.count
        var lines = [header]
        for row in self.rows { lines.append(row.groups.map(Self.tableLabel) + self.values(row)) }
        let separatorIndex = lines.count
        lines.append(["TOTAL"] + Array(repeating: "", count: groupColumns - 1) + self.values(self.total))
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        var output = ""
        for (index, line) in lines.enumerated() {
            if index == separatorIndex {
                output += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            }
            let cells = line.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column < groupColumns ? cell + padding : padding + cell
            }
            var text = cells.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            output += text + "\n"
        }
        return output
    }

    /// RFC 4180: a header row, CRLF line ends, fields quoted when they hold a comma, a quote,
    /// CR or LF (quotes doubled). No total row. A missing group is an empty field. A group
    /// that a spreadsheet would run as a formula gets a leading apostrophe (`csvText`).
    public func csv() -> String {
        var output = self.columnNames.map(Self.csvField).joined(separator: ",") + "\r\n"
        for row in self.rows {
            let groups = row.groups.map { Self.csvField(Self.csvText($0 ?? "")) }
            output += (groups + self.values(row, missing: "").map(Self.csvField)).joined(separator: ",") + "\r\n"
        }
        return output
    }

    /// End users, keys and teams are named by clients and operators, and finance opens these
    /// files in spreadsheets: a name starting with `=`, `+`, `-`, `@`, a tab or a CR would run
    /// there as a formula (OWASP's "CSV injection"), so it is prefixed with an apostrophe,
    /// which spreadsheets show as text. Numbers are the report's own and stay as they are.
    static func csvText(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// An array of objects with the keys of `columnNames`; a missing group or latency is null.
    public func json() -> String {
        guard !self.rows.isEmpty else { return "[]\n" }
        let objects = self.rows.map { row in
            let values = row.groups.map { $0.map(Self.jsonString) ?? "null" } + self.values(row, missing: "null")
            let members = zip(self.columnNames, values).map { "\(Self.jsonString($0)): \($1)" }
            return "  {" + members.joined(separator: ", ") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    // MARK: - Formatting

    /// A cost with 6 decimals, rounded half away from zero from nanodollars.
    public static func formatUSD(nanodollars: Int64) -> String {
        let negative = nanodollars < 0
        let magnitude = nanodollars.magnitude
        let micro = (magnitude + 500) / 1000
        let fraction = String(micro % 1_000_000)
        let text = "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
        return negative && micro > 0 ? "-" + text : text
    }

    private func values(_ row: Row, missing: String = "-") -> [String] {
        var values = [
            String(row.requests), String(row.errors), String(row.cacheHits), String(row.inputTokens),
            String(row.cachedInputTokens), String(row.outputTokens), Self.formatUSD(nanodollars: row.costNanodollars),
            row.averageLatencyMs.map { String(format: "%.1f", $0) } ?? missing,
            row.p95LatencyMs.map(String.init) ?? missing,
        ]
        if self.query.savings {
            values += [row.cacheSavedNanodollars, row.routingSavedNanodollars, row.fallbackCostNanodollars, row.errorCostNanodollars]
                .map { Self.formatUSD(nanodollars: $0) }
        }
        return values
    }

    private static func tableLabel(_ group: String?) -> String {
        guard let group else { return "(none)" }
        // One line per row, whatever the name holds.
        return group.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? "?" : String($0) }.joined()
    }

    static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
