import Foundation

/// `budgets/alerts.yaml`: where budget alerts go and when they fire. Without the file, or with
/// an empty `webhook_url`, no webhook alerts are sent (the Prometheus rules in
/// Deploy/prometheus/ cover the same conditions for teams that alert from Prometheus).
public struct AlertsConfig: Sendable, Equatable {
    /// The URL each alert is POSTed to (JSON with a Slack-compatible `text`); nil: off.
    public var webhookURL: String?
    /// How often budgets are checked.
    public var checkInterval: Duration
    /// A spike: spend in the last hour over this many times the hourly average of the day before.
    public var spikeMultiple: Double
    /// ...and at least this much in the hour, so a quiet budget's first requests raise nothing.
    public var spikeMinimum: USD
    /// Attempts per alert (backoff doubling from one second) before it is left for the next check.
    public var attempts: Int

    public init(
        webhookURL: String? = nil, checkInterval: Duration = .seconds(60), spikeMultiple: Double = 3, spikeMinimum: USD = USD(dollars: 1),
        attempts: Int = 5
    ) {
        self.webhookURL = webhookURL
        self.checkInterval = checkInterval
        self.spikeMultiple = spikeMultiple
        self.spikeMinimum = spikeMinimum
        self.attempts = attempts
    }

    /// Loads `alerts.yaml` from the budgets directory; no file means no webhook alerts.
    public static func load(budgetsDirectory: String, environment: [String: String]) throws(ConfigError) -> AlertsConfig {
        let path = (budgetsDirectory as NSString).appendingPathComponent("alerts.yaml")
        guard FileManager.default.fileExists(atPath: path) else { return AlertsConfig() }
        return try ConfigLoader.load(AlertsConfig.self, file: path, environment: environment)
    }
}

extension AlertsConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case webhookURL = "webhook_url"
        case checkInterval = "check_interval"
        case spikeMultiple = "spike_multiple"
        case spikeMinimumUSD = "spike_min_usd"
        case attempts
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        if let url = try container.decodeIfPresent(String.self, forKey: .webhookURL)?.trimmingCharacters(in: .whitespaces), !url.isEmpty {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw DecodingError.dataCorruptedError(forKey: .webhookURL, in: container, debugDescription: "must be an http(s) URL")
            }
            self.webhookURL = url
        }
        if let interval = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .checkInterval)?.duration {
            guard interval >= .seconds(1) else {
                throw DecodingError.dataCorruptedError(forKey: .checkInterval, in: container, debugDescription: "must be at least 1s")
            }
            self.checkInterval = interval
        }
        if let multiple = try container.decodeIfPresent(Double.self, forKey: .spikeMultiple) {
            guard multiple > 1, multiple.isFinite else {
                throw DecodingError.dataCorruptedError(forKey: .spikeMultiple, in: container, debugDescription: "must be more than 1")
            }
            self.spikeMultiple = multiple
        }
        if let minimum = try container.decodeIfPresent(Double.self, forKey: .spikeMinimumUSD) {
            guard minimum >= 0, minimum.isFinite else {
                throw DecodingError.dataCorruptedError(forKey: .spikeMinimumUSD, in: container, debugDescription: "must be 0 or more")
            }
            self.spikeMinimum = USD(dollars: minimum)
        }
        if let attempts = try container.decodeIfPresent(Int.self, forKey: .attempts) {
            guard (1...20).contains(attempts) else {
                throw DecodingError.dataCorruptedError(forKey: .attempts, in: container, debugDescription: "must be between 1 and 20")
            }
            self.attempts = attempts
        }
    }
}
