import Foundation

/// Parses the durations config files use: `250ms`, `10s`, `2m`, `1h`, or a bare number of seconds.
public enum ConfigDuration {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            guard let value = Double(trimmed.dropLast(unit.suffix.count)), value >= 0, value.isFinite else { return nil }
            return .milliseconds(Int64((value * unit.scale * 1000).rounded()))
        }
        guard let seconds = Double(trimmed), seconds >= 0, seconds.isFinite else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

/// A `Duration` read from a config string such as `30s`.
public struct ConfigDurationValue: Codable, Sendable, Hashable {
    public var duration: Duration

    public init(_ duration: Duration) { self.duration = duration }

    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        let text: String
        if let number = try? single.decode(Double.self) {
            text = String(number)
        } else {
            text = try single.decode(String.self)
        }
        guard let duration = ConfigDuration.parse(text) else {
            throw decoder.invalid("'\(text)' is not a duration (use e.g. 250ms, 10s, 2m)")
        }
        self.duration = duration
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        let ms = self.duration.components.seconds * 1000 + self.duration.components.attoseconds / 1_000_000_000_000_000
        try single.encode("\(ms)ms")
    }
}
