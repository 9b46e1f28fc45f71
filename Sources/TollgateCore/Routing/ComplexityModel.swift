import Foundation

/// One weighted term of the complexity score, as written under `complexity.weights`:
/// a number feature (`code_blocks`: weight x value), a number feature per thousand
/// (`prompt_tokens_per_1k`), the excess over a threshold (`messages_over_6`), or a
/// true/false feature (`has_tools`, `keyword.reasoning`: the weight when true).
struct ComplexityTerm {
    enum Transform: Equatable, Sendable {
        case linear, per1k
        case over(Double)
    }

    var label: String
    var feature: RouteFeature
    var transform: Transform
    var weight: Double
    var codingPath: [any CodingKey]

    init(_ label: String, weight: Double, codingPath: [any CodingKey]) throws(RuleDefinitionError) {
        var name = label
        var transform = Transform.linear
        if name.hasSuffix("_per_1k") {
            name = String(name.dropLast("_per_1k".count))
            transform = .per1k
        } else if let range = name.range(of: "_over_", options: .backwards), let threshold = Double(name[range.upperBound...]) {
            transform = .over(threshold)
            name = String(name[..<range.lowerBound])
        }
        guard let feature = RouteFeature(name: name) else {
            throw RuleDefinitionError(reason: "unknown feature '\(name)' (weigh a number or true/false feature: \(RouteFeature.nameList); add _per_1k or _over_N to numbers)")
        }
        switch feature.kind {
        case .number where feature != .score: break
        case .bool where transform == .linear: break
        default:
            throw RuleDefinitionError(reason: "'\(label)' cannot be weighed; weigh number features (optionally _per_1k or _over_N) or true/false features")
        }
        self.label = label
        self.feature = feature
        self.transform = transform
        self.weight = weight
        self.codingPath = codingPath
    }
}

/// The compiled complexity score: resolved terms and tiers sorted by cut-off.
struct ComplexityModel: Sendable {
    struct Term: Sendable {
        var label: String
        var slot: FeatureSlot
        var transform: ComplexityTerm.Transform
        var weight: Double
    }

    var terms: [Term]
    /// Ascending cut-offs; the tier's rank is its index.
    var tiers: [(name: String, cutoff: Double)]

    /// The tier for a score: the highest cut-off at or below it (the lowest tier below all).
    func tierRank(score: Double) -> Int {
        var rank = 0
        for (index, tier) in self.tiers.enumerated() where tier.cutoff <= score { rank = index }
        return rank
    }

    func rank(ofTier name: String) -> Int? { self.tiers.firstIndex { $0.name == name } }
}
