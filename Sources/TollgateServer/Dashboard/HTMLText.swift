import Foundation
import TollgateCore

/// Text for the dashboard's HTML: every name in it (users, teams, keys, models, tags) comes
/// from clients or operators, so everything is escaped, in text and in attributes alike.
enum HTMLText {
    static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
        return output
    }

    /// A dollar amount for people: cents from $1 up, more digits below so small spends do not
    /// read as zero. The exact amount goes in a `data-usd` attribute beside it.
    static func money(nanodollars: Int64) -> String {
        let magnitude = nanodollars.magnitude
        let digits = magnitude >= 1_000_000_000 || magnitude == 0 ? 2 : magnitude >= 10_000_000 ? 4 : 6
        // Rounded half up in integers (Foundation's NumberFormatter on Linux ignores the
        // maximum fraction digits for some values).
        var unit: UInt64 = 1
        for _ in 0..<(9 - digits) { unit *= 10 }
        let rounded = (magnitude + unit / 2) / unit
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let fraction = String(rounded % scale)
        var whole = String(rounded / scale)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole.removeLast(3)
        }
        let text = whole + grouped + "." + String(repeating: "0", count: digits - fraction.count) + fraction
        return (nanodollars < 0 && rounded > 0 ? "-$" : "$") + text
    }

    /// `money` without trailing zeros past the cents, for round figures (limits, a scale).
    static func roundMoney(nanodollars: Int64) -> String {
        var text = Self.money(nanodollars: nanodollars)
        while text.hasSuffix("0"), let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 3 { text.removeLast() }
        return text
    }

    /// A count with thousands separators.
    static func count(_ value: Int) -> String {
        var digits = String(value.magnitude)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        return (value < 0 ? "-" : "") + digits + grouped
    }

    /// The exact amount, as `tollgate report` prints it (6 decimals).
    static func exactUSD(_ nanodollars: Int64) -> String {
        LedgerReport.formatUSD(nanodollars: nanodollars)
    }

    /// `part` of `whole` as a percentage with one decimal; "–" without a whole.
    static func percent(_ part: Int, of whole: Int) -> String {
        whole > 0 ? String(format: "%.1f%%", Double(part) / Double(whole) * 100) : "–"
    }

    /// An amount in a table cell or figure: readable text, exact value in `data-usd`.
    static func moneySpan(_ nanodollars: Int64, figure: String? = nil) -> String {
        let attribute = figure.map { " data-figure=\"\($0)\"" } ?? ""
        return "<span class=\"usd\"\(attribute) data-usd=\"\(Self.exactUSD(nanodollars))\" title=\"$\(Self.exactUSD(nanodollars))\">\(Self.money(nanodollars: nanodollars))</span>"
    }
}
