import Foundation

/// One file under `routes/` as decoded. Structure, types, regexes and local constraints are
/// checked here (so errors carry the line); names that may be defined in another file
/// (keywords, patterns, tiers) are resolved when the files are merged.
struct RoutingRulesFile: Decodable {
    var complexity: RawComplexity?
    var keywords: [(name: String, phrases: [String])]?
    var patterns: [(name: String, regex: RoutingRegex)]?
    var aliases: [String]?
    /// Per alias, the concrete model whose list price `report --savings` compares it with.
    var savingsBaselines: [(alias: String, model: String)]?
    var routes: [RawRoute]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case complexity, keywords, patterns, aliases, routes
        case savingsBaselines = "savings_baselines"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.complexity = try container.decodeIfPresent(RawComplexity.self, forKey: .complexity)
        if container.contains(.keywords) {
            let map = try container.nestedContainer(keyedBy: JSONKey.self, forKey: .keywords)
            self.keywords = try map.allKeys.map { key in
                try Self.checkName(key, in: map)
                let phrases = try map.decode([String].self, forKey: key).map { $0.trimmingCharacters(in: .whitespaces) }
                guard !phrases.isEmpty, !phrases.contains(where: \.isEmpty) else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: map, debugDescription: "a keyword list needs non-empty phrases")
                }
                return (key.stringValue, phrases)
            }
        }
        if container.contains(.patterns) {
            let map = try container.nestedContainer(keyedBy: JSONKey.self, forKey: .patterns)
            self.patterns = try map.allKeys.map { key in
                try Self.checkName(key, in: map)
                let source = try map.decode(String.self, forKey: key)
                do throws(RuleDefinitionError) {
                    return (key.stringValue, try RoutingRegex(source))
                } catch {
                    throw DecodingError.dataCorruptedError(forKey: key, in: map, debugDescription: "invalid regular expression: \(error.reason)")
                }
            }
        }
        self.aliases = try container.decodeIfPresent([String].self, forKey: .aliases)
        if let aliases = self.aliases, aliases.contains(where: \.isEmpty) {
            throw DecodingError.dataCorruptedError(forKey: .aliases, in: container, debugDescription: "an alias cannot be empty")
        }
        if container.contains(.savingsBaselines) {
            let map = try container.nestedContainer(keyedBy: JSONKey.self, forKey: .savingsBaselines)
            self.savingsBaselines = try map.allKeys.map { key in
                let model = try map.decode(String.self, forKey: key)
                guard !model.isEmpty else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: map, debugDescription: "a savings baseline names a model")
                }
                return (key.stringValue, model)
            }
        }
        self.routes = try container.decodeIfPresent([RawRoute].self, forKey: .routes) ?? []
    }

    static func checkName(_ key: JSONKey, in map: KeyedDecodingContainer<JSONKey>) throws {
        guard key.stringValue.isRouteIdentifier else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: map, debugDescription: "'\(key.stringValue)' is not a valid name (letters, digits, '_', '-')"
            )
        }
    }
}

/// `complexity:` as decoded: weighted terms and named cut-offs.
struct RawComplexity: Decodable {
    var terms: [ComplexityTerm]
    var tiers: [(name: String, cutoff: Double)]
    var codingPath: [any CodingKey]

    enum CodingKeys: String, CodingKey, CaseIterable { case weights, tiers }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        self.codingPath = decoder.codingPath
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let weights = try container.nestedContainer(keyedBy: JSONKey.self, forKey: .weights)
        self.terms = try weights.allKeys.map { key in
            let weight = try weights.decode(Double.self, forKey: key)
            guard weight.isFinite, weight != 0 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: weights, debugDescription: "a weight must be a non-zero number")
            }
            do throws(RuleDefinitionError) {
                return try ComplexityTerm(key.stringValue, weight: weight, codingPath: weights.codingPath + [key])
            } catch {
                throw DecodingError.dataCorruptedError(forKey: key, in: weights, debugDescription: error.reason)
            }
        }
        let tiers = try container.nestedContainer(keyedBy: JSONKey.self, forKey: .tiers)
        self.tiers = try tiers.allKeys.map { key in
            try RoutingRulesFile.checkName(key, in: tiers)
            let cutoff = try tiers.decode(Double.self, forKey: key)
            guard cutoff.isFinite else { throw DecodingError.dataCorruptedError(forKey: key, in: tiers, debugDescription: "a cut-off must be a number") }
            return (key.stringValue, cutoff)
        }
        guard !self.tiers.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .tiers, in: container, debugDescription: "define at least one tier")
        }
        let cutoffs = self.tiers.map(\.cutoff)
        if Set(cutoffs).count != cutoffs.count {
            throw DecodingError.dataCorruptedError(forKey: .tiers, in: container, debugDescription: "two tiers share a cut-off")
        }
    }
}

/// One route as decoded.
struct RawRoute: Decodable {
    var name: String
    var description: String?
    var priority: Int
    var isDefault: Bool
    var when: RawCondition?
    var target: RouteTarget
    var overrideConcreteModel: Bool
    var fallbacks: FallbackChain
    var timeouts: RouteTimeouts
    var cache: RouteCachePolicy
    var caps: RouteCaps
    var codingPath: [any CodingKey]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, priority, when, target, fallbacks, retries, timeouts, cache, caps
        case isDefault = "default"
        case overrideConcreteModel = "override_concrete_model"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        self.codingPath = decoder.codingPath
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        guard self.name.isRouteIdentifier else {
            throw DecodingError.dataCorruptedError(
                forKey: .name, in: container, debugDescription: "'\(self.name)' is not a valid route name (letters, digits, '_', '-', '.')"
            )
        }
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
        self.priority = try container.decodeIfPresent(Int.self, forKey: .priority) ?? 0
        self.isDefault = try container.decodeIfPresent(Bool.self, forKey: .isDefault) ?? false
        self.when = try container.decodeIfPresent(RawCondition.self, forKey: .when)
        if self.isDefault {
            if self.when != nil {
                throw DecodingError.dataCorruptedError(forKey: .when, in: container, debugDescription: "the default route matches every request; remove 'when'")
            }
            if container.contains(.priority) {
                throw DecodingError.dataCorruptedError(forKey: .priority, in: container, debugDescription: "the default route is always tried last; remove 'priority'")
            }
        } else if self.when == nil {
            throw decoder.invalid("a route needs 'when' (or 'default: true')")
        }
        self.target = try container.decode(RouteTarget.self, forKey: .target)
        self.overrideConcreteModel = try container.decodeIfPresent(Bool.self, forKey: .overrideConcreteModel) ?? false
        if self.overrideConcreteModel, self.target == .passthrough {
            throw DecodingError.dataCorruptedError(
                forKey: .overrideConcreteModel, in: container, debugDescription: "a passthrough target never changes the model"
            )
        }
        self.fallbacks = try container.decodeIfPresent(FallbackChain.self, forKey: .fallbacks) ?? .init()
        if let retries = try container.decodeIfPresent(Int.self, forKey: .retries) {
            guard (0...10).contains(retries) else {
                throw DecodingError.dataCorruptedError(forKey: .retries, in: container, debugDescription: "retries is 0 to 10")
            }
            self.fallbacks.retries = retries
        }
        self.timeouts = try container.decodeIfPresent(RouteTimeouts.self, forKey: .timeouts) ?? .init()
        self.cache = try container.decodeIfPresent(RouteCachePolicy.self, forKey: .cache) ?? .init()
        self.caps = try container.decodeIfPresent(RouteCaps.self, forKey: .caps) ?? .init()
    }
}

extension String {
    var isRouteIdentifier: Bool {
        !self.isEmpty && self.utf8.count <= 64 && self.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                true
            default: false
            }
        }
    }
}
