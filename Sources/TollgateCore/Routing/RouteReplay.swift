import Foundation

/// `tollgate routes replay`: runs the features the ledger recorded through another set of
/// rules and sums, per (recorded route and model, new route and model), the requests and
/// what their tokens cost at today's prices on either model. Rows are fed one at a time, so
/// a week of traffic is never held in memory.
public struct RouteReplay: Sendable {
    /// Requests that went from one route and model to another (or stayed).
    public struct Move: Sendable, Equatable, Codable {
        public var fromRoute: String
        public var fromModel: String
        public var toRoute: String
        public var toModel: String
        public var requests: Int
        /// The recorded tokens priced on `fromModel` and on `toModel`; nil when either model
        /// has no price today.
        public var costBeforeNanos: Int64?
        public var costAfterNanos: Int64?

        public var moved: Bool { self.fromModel != self.toModel || self.fromRoute != self.toRoute }

        enum CodingKeys: String, CodingKey {
            case fromRoute = "from_route", fromModel = "from_model", toRoute = "to_route", toModel = "to_model", requests
            case costBeforeNanos = "cost_before_nanos", costAfterNanos = "cost_after_nanos"
        }
    }

    public let rules: CompiledRoutingRules
    public let prices: PriceBook

    /// Requests replayed (rows with a features record).
    public private(set) var replayed = 0
    /// Rows written before features were recorded (or by a layout this build cannot read).
    public private(set) var unrecorded = 0
    /// Cache hits: replayed and counted, but not priced (they cost nothing either way).
    public private(set) var cacheHits = 0
    /// Requests whose new decision read a text feature the record lacks (a new or edited
    /// keyword list or pattern), or a budget share that was not looked up: those evaluated as
    /// no match, so their move is a guess. Keyed by the feature.
    public private(set) var undetermined: [String: Int] = [:]
    public private(set) var undeterminedRequests = 0
    /// Models without a price today, with the requests that named them.
    public private(set) var unpricedModels: [String: Int] = [:]
    private var moves: [[String]: Move] = [:]

    public init(rules: CompiledRoutingRules, prices: PriceBook) {
        self.rules = rules
        self.prices = prices
    }

    public mutating func add(_ entry: LedgerEntry) {
        guard let json = entry.featuresJSON, let record = RecordedFeatures(ledgerJSON: json) else {
            self.unrecorded += 1
            return
        }
        self.replayed += 1
        let (decision, unrecordedText) = self.rules.replay(record.requestFeatures)
        var guesses = unrecordedText
        if self.rules.readsBudgetUsedPercent, !record.budgetKnown { guesses.append("budget_used_pct") }
        if !guesses.isEmpty {
            self.undeterminedRequests += 1
            for feature in guesses { self.undetermined[feature, default: 0] += 1 }
        }
        let key = [record.route, record.routedModel, decision.route, decision.model]
        var move = self.moves[key] ?? Move(
            fromRoute: record.route, fromModel: record.routedModel, toRoute: decision.route, toModel: decision.model,
            requests: 0, costBeforeNanos: 0, costAfterNanos: 0
        )
        move.requests += 1
        if entry.cacheStatus != .miss {
            self.cacheHits += 1
        } else {
            let usage = TokenUsage(inputTokens: entry.inputTokens, cachedInputTokens: entry.cachedInputTokens, outputTokens: entry.outputTokens)
            move.costBeforeNanos = self.price(usage, on: record.routedModel, adding: move.costBeforeNanos)
            move.costAfterNanos = self.price(usage, on: decision.model, adding: move.costAfterNanos)
            for model in Set([record.routedModel, decision.model]) where self.prices.price(for: model) == nil {
                self.unpricedModels[model, default: 0] += 1
            }
        }
        self.moves[key] = move
    }

    private func price(_ usage: TokenUsage, on model: String, adding sum: Int64?) -> Int64? {
        guard let price = self.prices.price(for: model) else { return nil }
        return sum.map { (USD(nanos: $0) + price.cost(of: usage)).nanos }
    }

    /// Every (from, to) pair: moves first, largest saving first, then the requests that stay.
    public var result: [Move] {
        self.moves.values.sorted { a, b in
            if a.moved != b.moved { return a.moved }
            let saving = { (m: Move) in (m.costBeforeNanos ?? 0) - (m.costAfterNanos ?? 0) }
            if saving(a) != saving(b) { return saving(a) > saving(b) }
            if a.requests != b.requests { return a.requests > b.requests }
            return (a.fromRoute, a.fromModel, a.toRoute, a.toModel) < (b.fromRoute, b.fromModel, b.toRoute, b.toModel)
        }
    }

    public var movedRequests: Int { self.moves.values.filter(\.moved).reduce(0) { $0 + $1.requests } }

    /// Totals over priced pairs only (a pair with an unpriced model is left out of both).
    public var totals: (before: USD, after: USD) {
        self.moves.values.reduce((USD.zero, USD.zero)) { sum, move in
            guard let before = move.costBeforeNanos, let after = move.costAfterNanos else { return sum }
            return (sum.0 + USD(nanos: before), sum.1 + USD(nanos: after))
        }
    }
}

// MARK: - Rendering

extension RouteReplay {
    /// The summary and one line per pair, aligned.
    public func table(rulesDescription: String, period: String) -> String {
        var out = "Replayed \(self.replayed) requests \(period) against \(rulesDescription).\n"
        if self.unrecorded > 0 {
            out += "Skipped \(self.unrecorded) ledger rows without a features record (written before replay existed).\n"
        }
        let share = self.replayed == 0 ? 0 : 100 * Double(self.movedRequests) / Double(self.replayed)
        out += "Would move: \(self.movedRequests) of \(self.replayed) (\(String(format: "%.1f", share))%).\n"
        if self.undeterminedRequests > 0 {
            let features = self.undetermined.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            out += "Undetermined: \(self.undeterminedRequests) requests read features the ledger did not record, taken as no match: \(features).\n"
        }
        if self.cacheHits > 0 { out += "Cache hits: \(self.cacheHits), counted but not priced (free either way).\n" }
        if !self.unpricedModels.isEmpty {
            out += "No price today for: \(self.unpricedModels.keys.sorted().joined(separator: ", ")); their pairs are left out of the totals.\n"
        }
        let (before, after) = self.totals
        out += "Cost of the recorded tokens at today's prices: \(before) USD as routed, \(after) USD with these rules (\(Self.signed(after - before)) USD"
        if before.nanos > 0 { out += ", " + String(format: "%+.1f%%", 100 * Double((after - before).nanos) / Double(before.nanos)) }
        out += ").\n\n"
        let header = ["FROM ROUTE", "FROM MODEL", "TO ROUTE", "TO MODEL", "REQUESTS", "COST BEFORE", "COST AFTER", "DIFFERENCE"]
        let rows = self.result.map { move -> [String] in
            let before = move.costBeforeNanos.map { USD(nanos: $0) }
            let after = move.costAfterNanos.map { USD(nanos: $0) }
            let difference = before.flatMap { b in after.map { Self.signed($0 - b) } } ?? "-"
            return [
                move.fromRoute, move.fromModel, move.moved ? move.toRoute : "=", move.moved ? move.toModel : "=", String(move.requests),
                before?.description ?? "-", after?.description ?? "-", difference,
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for line in [header] + rows {
            let cells = line.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column < 4 ? cell + pad : pad + cell
            }
            out += cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        return out
    }

    public func json() -> String {
        struct Output: Encodable {
            var replayed, unrecorded, moved, cacheHits, undeterminedRequests: Int
            var undetermined: [String: Int]
            var unpricedModels: [String]
            var costBeforeNanos, costAfterNanos: Int64
            var pairs: [Move]
            enum CodingKeys: String, CodingKey {
                case replayed, unrecorded, moved, cacheHits = "cache_hits", undeterminedRequests = "undetermined_requests"
                case undetermined, unpricedModels = "unpriced_models", costBeforeNanos = "cost_before_nanos"
                case costAfterNanos = "cost_after_nanos", pairs
            }
        }
        let (before, after) = self.totals
        let output = Output(
            replayed: self.replayed, unrecorded: self.unrecorded, moved: self.movedRequests, cacheHits: self.cacheHits,
            undeterminedRequests: self.undeterminedRequests, undetermined: self.undetermined,
            unpricedModels: self.unpricedModels.keys.sorted(), costBeforeNanos: before.nanos, costAfterNanos: after.nanos,
            pairs: self.result
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(output)) ?? Data(), as: UTF8.self) + "\n"
    }

    static func signed(_ amount: USD) -> String { amount.nanos > 0 ? "+\(amount)" : amount.description }
}
