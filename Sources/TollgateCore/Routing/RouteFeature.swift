/// A request feature a rule condition or a complexity weight can name.
enum RouteFeature: Equatable, Sendable {
    case model, isAlias, promptTokens, messages, maxTokens
    case hasTools, hasImages, hasResponseFormat, codeBlocks, hasCode
    case keyword(String), systemKeyword(String), pattern(String), systemPattern(String)
    case key, keyID, team, user, tag(String)
    case budgetUsedPct, hour, weekday, score, tier

    enum Kind: String { case string, number, bool, tier, weekday }

    static let simpleNames: [String: RouteFeature] = [
        "model": .model, "is_alias": .isAlias, "prompt_tokens": .promptTokens, "messages": .messages,
        "max_tokens": .maxTokens, "has_tools": .hasTools, "has_images": .hasImages,
        "has_response_format": .hasResponseFormat, "code_blocks": .codeBlocks, "has_code": .hasCode,
        "key": .key, "key_id": .keyID, "team": .team, "user": .user, "budget_used_pct": .budgetUsedPct,
        "hour": .hour, "weekday": .weekday, "score": .score, "tier": .tier,
    ]

    static let prefixed: [(prefix: String, make: @Sendable (String) -> RouteFeature)] = [
        ("keyword.", { .keyword($0) }), ("system_keyword.", { .systemKeyword($0) }),
        ("pattern.", { .pattern($0) }), ("system_pattern.", { .systemPattern($0) }), ("tag.", { .tag($0.lowercased()) }),
    ]

    static let nameList = simpleNames.keys.sorted().joined(separator: ", ")
        + ", keyword.<name>, system_keyword.<name>, pattern.<name>, system_pattern.<name>, tag.<name>"

    init?(name: String) {
        if let simple = Self.simpleNames[name] {
            self = simple
            return
        }
        for entry in Self.prefixed where name.hasPrefix(entry.prefix) && name.count > entry.prefix.count {
            self = entry.make(String(name.dropFirst(entry.prefix.count)))
            return
        }
        return nil
    }

    var name: String {
        switch self {
        case .keyword(let n): "keyword.\(n)"
        case .systemKeyword(let n): "system_keyword.\(n)"
        case .pattern(let n): "pattern.\(n)"
        case .systemPattern(let n): "system_pattern.\(n)"
        case .tag(let n): "tag.\(n)"
        default: Self.simpleNames.first { $0.value == self }!.key
        }
    }

    var kind: Kind {
        switch self {
        case .model, .key, .keyID, .team, .user, .tag: .string
        case .promptTokens, .messages, .maxTokens, .codeBlocks, .budgetUsedPct, .hour, .score: .number
        case .isAlias, .hasTools, .hasImages, .hasResponseFormat, .hasCode, .keyword, .systemKeyword, .pattern, .systemPattern: .bool
        case .tier: .tier
        case .weekday: .weekday
        }
    }

    /// Features that may have no value for a request (`exists` tests them).
    var isOptional: Bool {
        switch self {
        case .maxTokens, .key, .keyID, .team, .user, .tag, .budgetUsedPct: true
        default: false
        }
    }

    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// ISO weekday number for `mon`...`sun` (or `monday`...).
    static func weekdayNumber(_ text: String) -> Int? {
        let lower = text.lowercased()
        guard lower.count >= 3, let index = weekdays.firstIndex(of: String(lower.prefix(3))) else { return nil }
        let full = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][index]
        return lower.count == 3 || lower == full ? index + 1 : nil
    }
}
