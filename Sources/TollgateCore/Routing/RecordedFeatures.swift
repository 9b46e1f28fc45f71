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

    /// The record of one routed request, as the ledger stores it. Written byte by byte into
    /// one buffer: this runs on every request, where an encoder (or string interpolation)
    /// would cost more than the routing it records.
    static func json(_ features: RequestFeatures, decision: RouteDecision, budgetKnown: Bool, text: [(key: String, hit: Bool)]) -> String {
        var out = RecordWriter()
        out.raw("{\"v\":")
        out.integer(Self.currentVersion)
        out.string("route", decision.route)
        out.string("routed_model", decision.model)
        out.string("model", features.model)
        out.integer("prompt_tokens", features.promptTokens)
        out.integer("messages", features.messageCount)
        if let maxTokens = features.maxTokens { out.integer("max_tokens", maxTokens) }
        out.bool("has_tools", features.hasTools)
        out.bool("has_images", features.hasImages)
        out.bool("has_response_format", features.hasResponseFormat)
        out.integer("code_blocks", features.codeBlocks)
        out.string("key", features.keyName)
        out.string("key_id", features.keyID)
        out.string("team", features.team)
        out.string("user", features.user)
        if !features.tags.isEmpty {
            out.raw(",\"tags\":{")
            for (index, pair) in features.tags.pairs.enumerated() {
                if index > 0 { out.raw(",") }
                out.quoted(pair.name)
                out.raw(":")
                out.quoted(pair.value)
            }
            out.raw("}")
        }
        out.bool("budget_known", budgetKnown)
        if let used = features.budgetUsedPercent, used.isFinite {
            out.raw(",\"budget_used_pct\":")
            out.raw(String(used))
        }
        out.integer("hour", features.hour)
        out.integer("weekday", features.weekday)
        out.raw(",\"text\":{")
        for (index, entry) in text.enumerated() {
            if index > 0 { out.raw(",") }
            out.quoted(entry.key)
            out.raw(entry.hit ? ":true" : ":false")
        }
        out.raw("}}")
        return String(decoding: out.bytes, as: UTF8.self)
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

/// Appends JSON to one growing byte buffer.
private struct RecordWriter {
    var bytes: [UInt8] = []

    init() { self.bytes.reserveCapacity(512) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ text: String) { self.bytes.append(contentsOf: text.utf8) }

    mutating func integer(_ value: Int) {
        guard value != 0 else { return self.bytes.append(UInt8(ascii: "0")) }
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = self.bytes.count
        while magnitude > 0 {
            self.bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        }
        self.bytes[start...].reverse()
    }

    mutating func integer(_ name: StaticString, _ value: Int) {
        self.name(name)
        self.integer(value)
    }

    mutating func bool(_ name: StaticString, _ value: Bool) {
        self.name(name)
        self.raw(value ? "true" : "false")
    }

    mutating func string(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        self.name(name)
        self.quoted(value)
    }

    private mutating func name(_ name: StaticString) {
        self.raw(",\"")
        self.raw(name)
        self.raw("\":")
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    mutating func quoted(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                self.bytes.append(UInt8(ascii: "\\"))
                self.bytes.append(byte)
            case 0..<0x20:
                self.raw("\\u00")
                self.bytes.append(Self.hexDigit(byte >> 4))
                self.bytes.append(Self.hexDigit(byte & 0xF))
            default:
                self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}
