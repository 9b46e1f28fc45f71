import Foundation
import TollgateCore

/// Spend per day as stacked SVG bars, one colour per team or model (the seven largest, the
/// rest as "other"), with a scale in dollars. Plain SVG in the page: no script, no CDN.
struct SpendChart {
    struct Series {
        var name: String
        var colour: String
        var nanosByDay: [String: Int64]
        var total: Int64
    }

    static let palette = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#ca8a04", "#db2777"]
    static let otherColour = "#94a3b8"

    let days: [String]
    let series: [Series]

    /// From a report grouped by day, then by the stacked dimension, over `from...to`.
    init(report: LedgerReport, from: LedgerDay, to: LedgerDay) {
        var days: [String] = []
        var day = from
        while day <= to {
            days.append(day.description)
            day = day.next
        }
        self.days = days
        var byName: [String: [String: Int64]] = [:]
        var totals: [String: Int64] = [:]
        for row in report.rows {
            let name = row.groups.count > 1 ? (row.groups[1] ?? "(none)") : "(all)"
            byName[name, default: [:]][row.groups[0] ?? "", default: 0] += row.costNanodollars
            totals[name, default: 0] += row.costNanodollars
        }
        let ranked = totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var series: [Series] = []
        for (index, entry) in ranked.prefix(Self.palette.count).enumerated() {
            series.append(Series(name: entry.key, colour: Self.palette[index], nanosByDay: byName[entry.key] ?? [:], total: entry.value))
        }
        if ranked.count > Self.palette.count {
            var other = Series(name: "other", colour: Self.otherColour, nanosByDay: [:], total: 0)
            for (name, total) in ranked.dropFirst(Self.palette.count) {
                other.total += total
                for (day, nanos) in byName[name] ?? [:] { other.nanosByDay[day, default: 0] += nanos }
            }
            series.append(other)
        }
        self.series = series
    }

    /// A round top for the scale: 1, 2 or 5 times a power of ten, at least the largest day.
    static func scaleTop(_ nanodollars: Int64) -> Int64 {
        guard nanodollars > 0 else { return 1_000_000_000 }
        var step: Int64 = 1
        while true {
            for multiple: Int64 in [1, 2, 5] where step * multiple >= nanodollars { return step * multiple }
            step *= 10
        }
    }

    func svg() -> String {
        let width = 760.0, height = 240.0, left = 64.0, bottom = 28.0, top = 10.0
        let plotHeight = height - bottom - top
        let dayTotals = self.days.map { day in self.series.reduce(Int64(0)) { $0 + ($1.nanosByDay[day] ?? 0) } }
        let scale = Self.scaleTop(dayTotals.max() ?? 0)
        let slot = (width - left - 8) / Double(max(self.days.count, 1))
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Spend per day\" xmlns=\"http://www.w3.org/2000/svg\">"
        for step in 0...4 {
            let value = scale / 4 * Int64(step)
            let y = top + plotHeight - plotHeight * Double(step) / 4
            svg += "<line x1=\"\(left)\" x2=\"\(width - 8)\" y1=\"\(Self.f(y))\" y2=\"\(Self.f(y))\" class=\"grid\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(Self.f(y + 4))\" class=\"axis\" text-anchor=\"end\">\(HTMLText.roundMoney(nanodollars: value))</text>"
        }
        let labelEvery = max(1, Int((Double(self.days.count) / 12).rounded(.up)))
        for (index, day) in self.days.enumerated() {
            let x = left + slot * Double(index) + slot * 0.15
            var y = top + plotHeight
            svg += "<g class=\"bar\" data-day=\"\(day)\" data-usd=\"\(HTMLText.exactUSD(dayTotals[index]))\">"
            svg += "<title>\(day): \(HTMLText.money(nanodollars: dayTotals[index]))</title>"
            for series in self.series {
                guard let nanos = series.nanosByDay[day], nanos > 0 else { continue }
                let barHeight = plotHeight * Double(nanos) / Double(scale)
                y -= barHeight
                svg += "<rect x=\"\(Self.f(x))\" y=\"\(Self.f(y))\" width=\"\(Self.f(slot * 0.7))\" height=\"\(Self.f(barHeight))\" fill=\"\(series.colour)\">"
                svg += "<title>\(day) · \(HTMLText.escape(series.name)): \(HTMLText.money(nanodollars: nanos))</title></rect>"
            }
            svg += "</g>"
            if index % labelEvery == 0 {
                svg += "<text x=\"\(Self.f(x + slot * 0.35))\" y=\"\(Self.f(height - 8))\" class=\"axis\" text-anchor=\"middle\">\(day.dropFirst(5))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// The legend: colour, name and the series' total for the period.
    func legend() -> String {
        var html = "<ul class=\"legend\">"
        for series in self.series {
            html += "<li><span class=\"swatch\" style=\"background:\(series.colour)\"></span>\(HTMLText.escape(series.name)) "
            html += HTMLText.moneySpan(series.total) + "</li>"
        }
        return html + "</ul>"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
