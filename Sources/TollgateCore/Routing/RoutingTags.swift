/// Request metadata from the `X-Tollgate-Tag` header, for rules (`tag.<name>`) and reports.
///
/// Syntax: comma-separated items, each `name=value` or a bare `name` (value `true`):
/// `X-Tollgate-Tag: env=prod, feature=search, beta`. Names are letters, digits, `_`, `-`
/// and `.` (at most 64), compared case-insensitively; values are trimmed, at most 256 bytes.
/// Several header lines add up; a later item with the same name replaces an earlier one.
public struct RoutingTags: Sendable, Equatable {
    public static let maxTags = 32
    public static let maxNameLength = 64
    public static let maxValueLength = 256

    /// The tags in header order, names lowercased.
    public private(set) var pairs: [(name: String, value: String)]

    public init() { self.pairs = [] }

    public init(_ tags: [String: String]) {
        self.pairs = tags.sorted { $0.key < $1.key }.map { ($0.key.lowercased(), $0.value) }
    }

    public subscript(name: String) -> String? {
        for pair in self.pairs where pair.name == name { return pair.value }
        return nil
    }

    public var isEmpty: Bool { self.pairs.isEmpty }

    /// The tags as a JSON object for the ledger's `tags` column (`report --by tag:NAME`);
    /// nil without tags.
    public var ledgerJSON: String? {
        guard !self.pairs.isEmpty else { return nil }
        return "{" + self.pairs.map { "\(LedgerReport.jsonString($0.name)):\(LedgerReport.jsonString($0.value))" }.joined(separator: ",") + "}"
    }

    /// Parses the values of every `X-Tollgate-Tag` header line of a request.
    public static func parse(headerValues: [String]) throws(RoutingTagError) -> RoutingTags {
        var tags = RoutingTags()
        for line in headerValues {
            for item in line.split(separator: ",") {
                let trimmed = item.trimmingASCIISpaces()
                if trimmed.isEmpty { continue }
                let name: Substring
                let value: Substring
                if let equals = trimmed.firstIndex(of: "=") {
                    name = trimmed[..<equals].trimmingASCIISpaces()
                    value = trimmed[trimmed.index(after: equals)...].trimmingASCIISpaces()
                } else {
                    name = trimmed
                    value = "true"
                }
                guard !name.isEmpty, name.utf8.count <= Self.maxNameLength,
                    name.utf8.allSatisfy({ $0.isTagNameByte })
                else {
                    throw RoutingTagError(reason: "invalid tag name '\(name.prefix(Self.maxNameLength))' (letters, digits, '_', '-', '.')")
                }
                guard value.utf8.count <= Self.maxValueLength else {
                    throw RoutingTagError(reason: "tag '\(name)' has a value longer than \(Self.maxValueLength) bytes")
                }
                tags.set(name.lowercased(), String(value))
                guard tags.pairs.count <= Self.maxTags else {
                    throw RoutingTagError(reason: "more than \(Self.maxTags) tags")
                }
            }
        }
        return tags
    }

    private mutating func set(_ name: String, _ value: String) {
        if let index = self.pairs.firstIndex(where: { $0.name == name }) {
            self.pairs[index].value = value
        } else {
            self.pairs.append((name, value))
        }
    }

    public static func == (lhs: RoutingTags, rhs: RoutingTags) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// A malformed `X-Tollgate-Tag` header; the server answers 400 with this reason.
public struct RoutingTagError: Error, Sendable, Equatable {
    public var reason: String
}

extension UInt8 {
    var isTagNameByte: Bool {
        switch self {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            true
        default: false
        }
    }
}

extension Substring {
    fileprivate func trimmingASCIISpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
