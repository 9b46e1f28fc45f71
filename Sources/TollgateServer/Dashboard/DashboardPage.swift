import Foundation
import TollgateCore

/// The dashboard's HTML: server-rendered, one stylesheet inline, charts in SVG, no script, so
/// it works offline and under a strict Content-Security-Policy. Laid out for a laptop screen:
/// budget alarms first, then the period's figures, spend per day, budgets, people and models.
struct DashboardPage {
    let data: DashboardData
    /// Budget use past which a budget shows amber (limits.yaml `soft_limit_pct`).
    let softLimitPercent: Double

    func html() -> String {
        let data = self.data
        var body = self.header()
        body += self.alerts()
        body += self.figures()
        body += "<section class=\"panel\"><h2>Spend per day by \(data.stack.rawValue)</h2>"
        body += "<p class=\"switch\">Stack by " + DashboardData.Stack.allCases.map { stack in
            stack == data.stack ? "<strong>\(stack.rawValue)</strong>" : "<a href=\"\(self.link(stack: stack))\">\(stack.rawValue)</a>"
        }.joined(separator: " · ") + "</p>"
        let chart = SpendChart(report: data.byDay, from: data.from, to: data.to)
        body += chart.svg() + chart.legend() + "</section>"
        body += "<div class=\"columns\">" + self.budgetBurn() + self.teams() + "</div>"
        body += "<div class=\"columns\">" + self.topUsers() + self.routingMix() + "</div>"
        body += self.exports()
        return Self.document(title: "Tollgate · spend", body: body)
    }

    // MARK: - Sections

    private func header() -> String {
        let data = self.data
        let range = data.from == data.to ? "\(data.to)" : "\(data.from) to \(data.to)"
        var html = "<header><h1>Tollgate</h1><nav class=\"periods\">"
        for period in DashboardData.Period.allCases {
            html += period == data.period
                ? "<strong>\(period.label)</strong>"
                : "<a href=\"\(self.link(period: period))\">\(period.label)</a>"
        }
        html += "</nav><span class=\"range\" data-figure=\"range\">\(range)</span>"
        html += "<form method=\"post\" action=\"/dashboard/sign-out\"><button type=\"submit\">Sign out</button></form></header>"
        return html
    }

    /// Budgets over their limit today (red) or past the soft limit (amber), most used first.
    private func alerts() -> String {
        let budgets = (self.data.budgets.teams + self.data.budgets.keys + [self.data.budgets.global])
            .filter { ($0.usedPercent ?? 0) >= self.softLimitPercent }
            .sorted { ($0.usedPercent ?? 0) > ($1.usedPercent ?? 0) }
        guard !budgets.isEmpty else { return "" }
        var html = "<section class=\"alerts\">"
        for budget in budgets {
            let over = (budget.usedPercent ?? 0) >= 100
            html += "<p class=\"\(over ? "over" : "near")\" data-alert=\"\(budget.kind):\(HTMLText.escape(budget.id ?? "global"))\">"
            html += "<strong>\(over ? "Over budget" : "Near budget")</strong>: \(Self.label(budget)) has spent "
            html += HTMLText.moneySpan(budget.spentNanodollars) + " of " + HTMLText.roundMoney(nanodollars: USD(dollars: budget.budgetUSD ?? 0).nanos)
            html += " today (\(String(format: "%.1f", budget.usedPercent ?? 0))%), resets \(HTMLText.escape(budget.resetsAt))</p>"
        }
        return html + "</section>"
    }

    private func figures() -> String {
        let total = self.data.total
        let saved = total.cacheSavedNanodollars + total.routingSavedNanodollars
        func card(_ title: String, _ value: String, _ note: String = "") -> String {
            "<div class=\"card\"><h3>\(title)</h3><p class=\"value\">\(value)</p>\(note.isEmpty ? "" : "<p class=\"note\">\(note)</p>")</div>"
        }
        var html = "<section class=\"cards\">"
        html += card("Spend today", HTMLText.moneySpan(self.data.today.costNanodollars, figure: "today-cost"), "\(self.data.today.requests) requests")
        html += card("Spend, \(self.data.period.label.lowercased())", HTMLText.moneySpan(total.costNanodollars, figure: "period-cost"),
                     "<span data-figure=\"requests\">\(HTMLText.count(total.requests))</span> requests")
        html += card("Saved", HTMLText.moneySpan(saved, figure: "saved"),
                     "cache \(HTMLText.moneySpan(total.cacheSavedNanodollars, figure: "cache-saved")) · routing \(HTMLText.moneySpan(total.routingSavedNanodollars, figure: "routing-saved"))")
        html += card("Cache hit rate", "<span data-figure=\"cache-hit-rate\">\(HTMLText.percent(total.cacheHits, of: total.requests))</span>", "\(total.cacheHits) hits")
        html += card("Errors", "<span data-figure=\"error-rate\">\(HTMLText.percent(total.errors, of: total.requests))</span>",
                     "\(total.errors) requests · cost \(HTMLText.moneySpan(total.errorCostNanodollars))")
        html += card("Fallbacks", "<span data-figure=\"fallback-rate\">\(HTMLText.percent(total.fallbacks, of: total.requests))</span>",
                     "\(total.fallbacks) requests · failed attempts \(HTMLText.moneySpan(total.fallbackCostNanodollars))")
        html += card("Latency p50 / p95", "<span data-figure=\"latency\">\(total.p50LatencyMs.map(String.init) ?? "–") / \(total.p95LatencyMs.map(String.init) ?? "–") ms</span>")
        return html + "</section>"
    }

    private func budgetBurn() -> String {
        let budgets = (self.data.budgets.teams + self.data.budgets.keys + [self.data.budgets.global]).filter { $0.budgetUSD != nil }
        var html = "<section class=\"panel\"><h2>Budgets today</h2>"
        guard !budgets.isEmpty else { return html + "<p class=\"empty\">No daily budgets are set (budgets/limits.yaml, keys).</p></section>" }
        html += "<table class=\"budgets\"><thead><tr><th>Budget</th><th>Used</th><th class=\"num\">Spent</th><th class=\"num\">Limit</th></tr></thead><tbody>"
        for budget in budgets.sorted(by: { ($0.usedPercent ?? 0) > ($1.usedPercent ?? 0) }) {
            let used = budget.usedPercent ?? 0
            let state = used >= 100 ? "over" : used >= self.softLimitPercent ? "near" : "ok"
            html += "<tr class=\"\(state)\" data-budget=\"\(budget.kind):\(HTMLText.escape(budget.id ?? "global"))\" data-used-pct=\"\(used)\">"
            html += "<td>\(Self.label(budget))</td>"
            html += "<td><div class=\"meter\"><div style=\"width:\(String(format: "%.1f", min(used, 100)))%\"></div></div>\(String(format: "%.1f", used))%</td>"
            html += "<td class=\"num\">\(HTMLText.moneySpan(budget.spentNanodollars))</td>"
            html += "<td class=\"num\">\(HTMLText.roundMoney(nanodollars: USD(dollars: budget.budgetUSD ?? 0).nanos))</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    private func teams() -> String {
        self.table(
            title: "Teams", report: self.data.byTeam, attribute: "team", limit: 15,
            columns: ["Team", "Requests", "Cache hits", "Errors", "Spend"]
        ) { row in
            [HTMLText.count(row.requests), HTMLText.percent(row.cacheHits, of: row.requests), HTMLText.percent(row.errors, of: row.requests), HTMLText.moneySpan(row.costNanodollars)]
        }
    }

    private func topUsers() -> String {
        self.table(title: "Top users", report: self.data.byUser, attribute: "user", limit: 10, columns: ["User", "Requests", "Tokens", "Spend"]) { row in
            [HTMLText.count(row.requests), HTMLText.count(row.inputTokens + row.outputTokens), HTMLText.moneySpan(row.costNanodollars)]
        }
    }

    /// Which models were asked for and which answered.
    private func routingMix() -> String {
        var html = "<section class=\"panel\"><h2>Routing: asked for → answered by</h2>"
        guard !self.data.routingMix.rows.isEmpty else { return html + "<p class=\"empty\">No requests in this period.</p></section>" }
        html += "<table><thead><tr><th>Asked for</th><th>Answered by</th><th class=\"num\">Requests</th><th class=\"num\">Spend</th></tr></thead><tbody>"
        for row in self.data.routingMix.rows.prefix(15) {
            let asked = row.groups[0] ?? "(none)", served = row.groups.count > 1 ? row.groups[1] ?? "(none)" : ""
            html += "<tr data-route=\"\(HTMLText.escape(asked))→\(HTMLText.escape(served))\"><td>\(HTMLText.escape(asked))</td><td>\(HTMLText.escape(served))</td>"
            html += "<td class=\"num\">\(HTMLText.count(row.requests))</td><td class=\"num\">\(HTMLText.moneySpan(row.costNanodollars))</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    private func exports() -> String {
        let range = "from=\(self.data.from)&amp;to=\(self.data.to)"
        let links = [("by day and team", "day,team"), ("by team", "team"), ("by user", "user"), ("by model", "model"), ("by route", "route")]
        var html = "<section class=\"panel exports\"><h2>Export (CSV, with savings)</h2><p>"
        html += links.map { "<a href=\"/dashboard/reports.csv?by=\($0.1)&amp;savings=true&amp;\(range)\">\($0.0)</a>" }.joined(separator: " · ")
        return html + "</p></section>"
    }

    // MARK: - Pieces

    private func table(
        title: String, report: LedgerReport, attribute: String, limit: Int, columns: [String], cells: (LedgerReport.Row) -> [String]
    ) -> String {
        var html = "<section class=\"panel\"><h2>\(title)</h2>"
        guard !report.rows.isEmpty else { return html + "<p class=\"empty\">No requests in this period.</p></section>" }
        html += "<table><thead><tr>" + columns.enumerated().map { $0.offset == 0 ? "<th>\($0.element)</th>" : "<th class=\"num\">\($0.element)</th>" }.joined() + "</tr></thead><tbody>"
        for row in report.rows.prefix(limit) {
            let name = row.group ?? "(none)"
            html += "<tr data-\(attribute)=\"\(HTMLText.escape(name))\"><td>\(HTMLText.escape(name))</td>"
            html += cells(row).map { "<td class=\"num\">\($0)</td>" }.joined() + "</tr>"
        }
        if report.rows.count > limit { html += "<tr><td colspan=\"\(columns.count)\" class=\"note\">and \(report.rows.count - limit) more (see the CSV)</td></tr>" }
        return html + "</tbody></table></section>"
    }

    private static func label(_ budget: SpendOverview.Entry) -> String {
        switch budget.kind {
        case "team": "team <strong>\(HTMLText.escape(budget.name ?? ""))</strong>"
        case "key": "key <strong>\(HTMLText.escape(budget.name ?? budget.id ?? ""))</strong>"
        case "user": "user <strong>\(HTMLText.escape(budget.name ?? ""))</strong>"
        default: "the gateway"
        }
    }

    private func link(period: DashboardData.Period? = nil, stack: DashboardData.Stack? = nil) -> String {
        "/dashboard?period=\((period ?? self.data.period).rawValue)&amp;stack=\((stack ?? self.data.stack).rawValue)"
    }

    static let disabled = Self.document(
        title: "Tollgate", body: "<main class=\"signin\"><h1>Tollgate</h1><p>The dashboard is off: set TOLLGATE_ADMIN_KEY (admin_key in tollgate.yaml).</p></main>"
    )

    /// The sign-in form: the admin key goes in a POST body, never a URL.
    static func signIn(error: String? = nil) -> String {
        var body = "<main class=\"signin\"><h1>Tollgate</h1><form method=\"post\" action=\"/dashboard/sign-in\">"
        body += "<label for=\"key\">Admin key</label><input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"current-password\" required autofocus>"
        if let error { body += "<p class=\"error\" role=\"alert\">\(HTMLText.escape(error))</p>" }
        body += "<button type=\"submit\">Sign in</button></form></main>"
        return Self.document(title: "Tollgate · sign in", body: body)
    }

    static func document(title: String, body: String) -> String {
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>\(title)</title><style>\(Self.style)</style></head><body>\(body)</body></html>"
    }

    static let style = """
        *{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;background:#f1f5f9}
        header{display:flex;align-items:center;gap:16px;padding:10px 24px;background:#0f172a;color:#fff}header h1{font-size:18px;margin:0 12px 0 0}
        header a{color:#cbd5e1}header strong{color:#fff}.periods{display:flex;gap:12px}.range{margin-left:auto;color:#cbd5e1}
        header form{margin:0}button{font:inherit;padding:6px 14px;border:0;border-radius:6px;background:#2563eb;color:#fff;cursor:pointer}
        header button{background:#334155}
        section{margin:16px 24px}.alerts p{margin:6px 0;padding:10px 14px;border-radius:8px}.alerts .over{background:#fee2e2;color:#991b1b;border-left:6px solid #dc2626}
        .alerts .near{background:#fef3c7;color:#92400e;border-left:6px solid #d97706}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
        .card,.panel{background:#fff;border-radius:10px;padding:12px 16px;box-shadow:0 1px 2px rgba(15,23,42,.08)}
        .card h3{margin:0;font-size:12px;font-weight:600;color:#64748b;text-transform:uppercase;letter-spacing:.04em}
        .card .value{margin:4px 0 0;font-size:24px;font-weight:700}.card .note,.note{margin:2px 0 0;color:#64748b;font-size:12px}
        .panel h2{margin:0 0 8px;font-size:15px}.switch{margin:0 0 6px;color:#64748b}
        .columns{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin:0 24px}.columns>section{margin:16px 0}
        table{width:100%;border-collapse:collapse}th,td{padding:5px 8px;border-bottom:1px solid #e2e8f0;text-align:left}th{font-size:12px;color:#64748b}
        .num{text-align:right;font-variant-numeric:tabular-nums}
        .meter{display:inline-block;width:110px;height:10px;margin-right:8px;background:#e2e8f0;border-radius:5px;overflow:hidden;vertical-align:middle}
        .meter div{height:100%;background:#16a34a}tr.near .meter div{background:#d97706}tr.over .meter div{background:#dc2626}tr.over td{color:#991b1b;font-weight:600}
        .chart{width:100%;height:auto;max-height:300px}.chart .grid{stroke:#e2e8f0}.chart .axis{font-size:11px;fill:#64748b}
        .legend{display:flex;flex-wrap:wrap;gap:14px;list-style:none;padding:0;margin:6px 0 0}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
        .empty{color:#64748b}.exports a{margin-right:4px}
        .signin{max-width:340px;margin:12vh auto;background:#fff;padding:24px;border-radius:12px;box-shadow:0 1px 3px rgba(15,23,42,.12)}
        .signin form{display:grid;gap:10px}.signin input{font:inherit;padding:8px;border:1px solid #cbd5e1;border-radius:6px}.error{color:#b91c1c;margin:0}
        """
}
