import Foundation

/// Says which provider serves a model: by exact name (`gpt-4o`) or by a name pattern with
/// `*` wildcards (`gpt-5*`). The first mapping that matches wins.
public struct ModelMapping: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Decodable { case chat, embedding }

    public var name: String?
    public var pattern: GlobPattern?
    public var provider: String
    /// The model name sent upstream, when it differs from the one clients use.
    public var upstreamModel: String?
    public var kind: Kind

    public init(name: String? = nil, pattern: String? = nil, provider: String, upstreamModel: String? = nil, kind: Kind = .chat) {
        self.name = name
        self.pattern = pattern.map(GlobPattern.init)
        self.provider = provider
        self.upstreamModel = upstreamModel
        self.kind = kind
    }

    public func matches(_ model: String) -> Bool {
        if let name { return name == model }
        return self.pattern?.matches(model) ?? false
    }
}

extension ModelMapping: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, pattern, provider, kind
        case upstreamModel = "upstream_model"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decodeIfPresent(String.self, forKey: .name).nonEmpty
        self.pattern = try container.decodeIfPresent(String.self, forKey: .pattern).nonEmpty.map(GlobPattern.init)
        guard (self.name == nil) != (self.pattern == nil) else {
            throw decoder.invalid("a model mapping needs exactly one of 'name' or 'pattern'")
        }
        self.provider = try container.decode(String.self, forKey: .provider)
        self.upstreamModel = try container.decodeIfPresent(String.self, forKey: .upstreamModel).nonEmpty
        if self.upstreamModel != nil && self.pattern != nil {
            throw decoder.invalid("'upstream_model' renames one model; it cannot be used with a 'pattern'")
        }
        self.kind = try container.decodeIfPresent(Kind.self, forKey: .kind) ?? .chat
    }
}

/// A name pattern where `*` matches any run of characters and everything else is literal.
public struct GlobPattern: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    private let parts: [Substring]

    public init(_ pattern: String) {
        self.description = pattern
        self.parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
    }

    public func matches(_ text: String) -> Bool {
        guard self.parts.count > 1 else { return text == self.description }
        var rest = text[...]
        guard rest.hasPrefix(self.parts[0]) else { return false }
        rest = rest.dropFirst(self.parts[0].count)
        for middle in self.parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let range = rest.range(of: middle) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(self.parts.last!)
    }
}
