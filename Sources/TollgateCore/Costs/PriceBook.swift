import Foundation

/// `budgets/prices.yaml`: the list price of every model the gateway may serve. Looked up by
/// the served model's name: an exact entry first, then the most specific `*` pattern (the
/// one with the longest literal text), so `gpt-4o-mini*` beats `gpt-4o*`. An entry may also
/// give the model's limits (`context_window`, `max_output`), which fallbacks use to fit a
/// conversation into a smaller model.
public struct PriceBook: Sendable {
    /// The day the prices were copied from the providers' price lists.
    public var takenOn: String?
    private var exact: [String: Entry]
    private var patterns: [(pattern: GlobPattern, specificity: Int, entry: Entry)]

    struct Entry: Sendable {
        var price: ModelPrice
        var limits: ModelLimits
    }

    public init(takenOn: String? = nil, prices: [String: ModelPrice], limits: [String: ModelLimits] = [:]) {
        self.takenOn = takenOn
        let entries = prices.map { name, price in (name, Entry(price: price, limits: limits[name] ?? .unknown)) }
        self.exact = Dictionary(uniqueKeysWithValues: entries.filter { !$0.0.contains("*") })
        self.patterns = entries.filter { $0.0.contains("*") }
            .map { (GlobPattern($0.0), $0.0.count(where: { $0 != "*" }), $0.1) }
            .sorted { $0.specificity != $1.specificity ? $0.specificity > $1.specificity : $0.pattern.description < $1.pattern.description }
    }

    public static let empty = PriceBook(prices: [:])

    public func price(for model: String) -> ModelPrice? {
        self.entry(for: model)?.price
    }

    /// The model's limits, from the same entry as its price.
    public func limits(for model: String) -> ModelLimits {
        self.entry(for: model)?.limits ?? .unknown
    }

    private func entry(for model: String) -> Entry? {
        if let entry = self.exact[model] { return entry }
        return self.patterns.first { $0.pattern.matches(model) }?.entry
    }

    /// Whether a model mapping is covered: a named model needs a price; a pattern mapping
    /// needs a price entry for the same pattern or for a pattern matching all its names.
    func covers(_ mapping: ModelMapping) -> Bool {
        if let name = mapping.name { return self.price(for: name) != nil }
        guard let pattern = mapping.pattern?.description else { return true }
        if self.exact[pattern] != nil { return true }
        // A price pattern covers a mapping pattern when it matches the pattern text itself
        // ("gpt-4o*" matches "gpt-4o*"), which holds for equal or wider patterns.
        return self.patterns.contains { $0.pattern.matches(pattern) }
    }

    /// Every routable model must have a price, or be marked `free`: unpriced traffic would
    /// escape budgets. Returns the mappings that are not covered, in config order.
    public func unpricedModels(in config: GatewayConfig) -> [String] {
        config.models.filter { !self.covers($0) }.map { $0.name ?? $0.pattern?.description ?? "?" }
    }

    /// Loads `prices.yaml` from the budgets directory and checks it covers `config`'s models.
    /// No file means no prices, which is only valid when no model is routable.
    public static func load(budgetsDirectory: String, config: GatewayConfig, environment: [String: String]) throws(ConfigError) -> PriceBook {
        let path = (budgetsDirectory as NSString).appendingPathComponent("prices.yaml")
        let book: PriceBook
        if FileManager.default.fileExists(atPath: path) {
            let file = try ConfigLoader.load(PricesFile.self, file: path, environment: environment)
            book = PriceBook(takenOn: file.takenOn, prices: file.models.mapValues(\.price), limits: file.models.mapValues(\.limits))
        } else {
            book = .empty
        }
        let missing = book.unpricedModels(in: config)
        if !missing.isEmpty {
            throw ConfigError(
                file: path, key: "models",
                reason: "no price for \(missing.joined(separator: ", ")) (add one, or mark the model `free: true`)"
            )
        }
        return book
    }
}

/// The YAML shape of `prices.yaml`.
struct PricesFile: Decodable {
    var takenOn: String?
    var models: [String: PriceEntry]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case models
        case takenOn = "taken_on"
        case currency
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let currency = try container.decodeIfPresent(String.self, forKey: .currency), currency != "USD" {
            throw DecodingError.dataCorruptedError(forKey: .currency, in: container, debugDescription: "only USD prices are supported")
        }
        self.takenOn = try container.decodeIfPresent(String.self, forKey: .takenOn)
        self.models = try container.decodeIfPresent([String: PriceEntry].self, forKey: .models) ?? [:]
    }
}

/// One model's entry: `{input, cached_input, cache_write, output}` in USD per million
/// tokens, or `{free: true}`; either with the optional limits `context_window` and
/// `max_output` in tokens.
struct PriceEntry: Decodable {
    var price: ModelPrice
    var limits: ModelLimits

    enum CodingKeys: String, CodingKey, CaseIterable {
        case input, output, free
        case cachedInput = "cached_input"
        case cacheWrite = "cache_write"
        case contextWindow = "context_window"
        case maxOutput = "max_output"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func tokens(_ key: CodingKeys) throws -> Int? {
            guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return nil }
            guard value > 0 else { throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be a positive number of tokens") }
            return value
        }
        self.limits = ModelLimits(contextWindow: try tokens(.contextWindow), maxOutputTokens: try tokens(.maxOutput))
        if let window = self.limits.contextWindow, let output = self.limits.maxOutputTokens, output > window {
            throw decoder.invalid("`max_output` (\(output)) is larger than `context_window` (\(window))")
        }
        if try container.decodeIfPresent(Bool.self, forKey: .free) == true {
            let priced = container.allKeys.contains { [.input, .output, .cachedInput, .cacheWrite].contains($0) }
            guard !priced else { throw decoder.invalid("a free model has no prices; remove them or `free`") }
            self.price = .free
            return
        }
        func amount(_ key: CodingKeys) throws -> Double? {
            guard let value = try container.decodeIfPresent(Double.self, forKey: key) else { return nil }
            guard value >= 0, value.isFinite else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be a non-negative USD amount per million tokens")
            }
            return value
        }
        guard let input = try amount(.input) else { throw decoder.invalid("needs `input` (USD per million tokens) or `free: true`") }
        guard let output = try amount(.output) else { throw decoder.invalid("needs `output` (USD per million tokens)") }
        self.price = ModelPrice(
            inputPerMillion: input, cachedInputPerMillion: try amount(.cachedInput),
            cacheWritePerMillion: try amount(.cacheWrite), outputPerMillion: output
        )
    }
}
