/// A configuration file that cannot be used. Names the file, the line (when known), the key
/// and the reason, so `tollgate serve` and `routes check` can print something ops can fix.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var reason: String

    public init(file: String, line: Int? = nil, key: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason
    }

    public var description: String {
        var location = self.file
        if let line { location += ":\(line)" }
        if let key, !key.isEmpty { return "\(location): \(key): \(self.reason)" }
        return "\(location): \(self.reason)"
    }
}

extension Decoder {
    /// Rejects keys a config section does not define, so a typo is an error instead of a
    /// silently ignored setting.
    public func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let container = try self.container(keyedBy: JSONKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !known.contains(key.stringValue) {
            let allowed = Keys.allCases.map(\.stringValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: container,
                debugDescription: "unknown key '\(key.stringValue)' (allowed: \(allowed))"
            )
        }
    }

    /// Throws a config error at this decoder's position.
    public func invalid(_ reason: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: self.codingPath, debugDescription: reason))
    }
}
