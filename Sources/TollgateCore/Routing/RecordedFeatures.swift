import Foundation

/// What `tollgate routes replay` needs of a request, kept as JSON in the ledger's `features`
/// column: every routing feature except the texts, the route and model the rules chose, and
/// the outcome of each keyword list and pattern the rules test on the texts. No prompt text:
/// a text feature is kept as its name, a fingerprint of its definition (so that an edited
/// list is not mistaken for the recorded one) and whether it matched.
public struct RecordedFeatures: Codable, Sendable, Equatable {
    /// The layout of this record; a newer gateway may add fields, never change them.
    public static let currentVersion = 1

    public var version: Int
    /// The route and the first model the rules chose (before any fallback).
    public var route: String
    public var routedModel: String
    /// The model or alias the client sent.
    public var model: String
    public var promptTokens: Int
    public var messages: Int
    public var maxTokens: Int?
    public var hasTools: Bool
    public var hasImages: Bool
    public var hasResponseFormat: Bool
    public var codeBlocks: Int
    public var key: String?
    public var keyID: String?
    public var team: String?
    public var user: String?
    public var tags: [String: String]?
    /// Whether the budget share was looked up (only when a rule reads it), and its value.
    public var budgetKnown: Bool
    public var budgetUsedPct: Double?
    public var hour: Int
    public var weekday: Int
    /// `keyword.<name>#<fingerprint>` (and `system_keyword.`, `pattern.`, `system_pattern.`)
    /// to whether it matched.
    public var text: [String: Bool]

    enum CodingKeys: String, CodingKey {
        case version = "v", route, routedModel = "routed_model", model, promptTokens = "prompt_tokens", messages
        case maxTokens = "max_tokens", hasTools = "has_tools", hasImages = "has_images"
        case hasResponseFormat = "has_response_format", codeBlocks = "code_blocks", key, keyID = "key_id", team, user, tags
        case budgetKnown = "budget_known", budgetUsedPct = "budget_used_pct", hour, weekday, text
    }

    /// The features to evaluate another set of rules with: text features answer from `text`.
    public var requestFeatures: RequestFeatures {
        var features = RequestFeatures(
            model: self.model, promptTokens: self.promptTokens, messageCount: self.messages, maxTokens: self.maxTokens,
            hasTools: self.hasTools, hasImages: self.hasImages, hasResponseFormat: self.hasResponseFormat,
            codeBlocks: self.codeBlocks, keyName: self.key, keyID: self.keyID, team: self.team, user: self.user, tags: RoutingTags(self.tags ?? [:]),
            budgetUsedPercent: self.budgetUsedPct, hour: self.hour, weekday: self.weekday
        )
        features.recordedText = self.text
        return features
    }

    /// The record of one routed request, as the ledger stores it. Built by hand: this runs
    /// on every request, where an encoder's set-up would cost more than the text.
    static func json(_ features: RequestFeatures, decision: RouteDecision, budgetKnown: Bool, text: [(key: String, hit: Bool)]) -> String {
        var out = "{\"v\":\(Self.currentVersion)"
        func string(_ name: String, _ value: String?) {
            guard let value else { return }
            out += ",\"\(name)\":" + LedgerReport.jsonString(value)
        }
        string("route", decision.route)
        string("routed_model", decision.model)
        string("model", features.model)
        out += ",\"prompt_tokens\":\(features.promptTokens),\"messages\":\(features.messageCount)"
        if let maxTokens = features.maxTokens { out += ",\"max_tokens\":\(maxTokens)" }
        out += ",\"has_tools\":\(features.hasTools),\"has_images\":\(features.hasImages)"
        out += ",\"has_response_format\":\(features.hasResponseFormat),\"code_blocks\":\(features.codeBlocks)"
        string("key", features.keyName)
        string("key_id", features.keyID)
        string("team", features.team)
        string("user", features.user)
        if let tags = features.tags.ledgerJSON { out += ",\"tags\":" + tags }
        out += ",\"budget_known\":\(budgetKnown)"
        if let used = features.budgetUsedPercent, used.isFinite { out += ",\"budget_used_pct\":\(used)" }
        out += ",\"hour\":\(features.hour),\"weekday\":\(features.weekday),\"text\":{"
        for (index, entry) in text.enumerated() {
            out += (index == 0 ? "" : ",") + LedgerReport.jsonString(entry.key) + ":\(entry.hit)"
        }
        return out + "}}"
    }

    /// Decodes a ledger row's `features`; nil for rows written before features were recorded
    /// or by a newer layout this build cannot read.
    public init?(ledgerJSON: String) {
        guard let decoded = try? JSONDecoder().decode(Self.self, from: Data(ledgerJSON.utf8)), decoded.version <= Self.currentVersion else {
            return nil
        }
        self = decoded
    }
}

extension RoutingEngine {
    /// The names under which text features are recorded: the feature's name and a
    /// fingerprint of its definition, e.g. `keyword.code#5f1c09a2`.
    static func textKey(_ feature: String, definition: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in definition.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return feature + "#" + String(UInt32(truncatingIfNeeded: hash ^ (hash >> 32)), radix: 16)
    }

    static func keywordDefinition(_ phrases: [String]) -> String {
        Set(phrases.map { $0.lowercased() }).sorted().joined(separator: "\n")
    }
}
