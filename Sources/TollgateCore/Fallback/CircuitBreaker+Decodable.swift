extension CircuitBreaker.Policy: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case failureRatio = "failure_ratio"
        case minimumRequests = "min_requests"
        case window
        case coolDown = "cool_down"
        case halfOpenProbes = "half_open_probes"
    }

    /// `circuit_breaker: { failure_ratio: 0.5, min_requests: 10, window: 30s, cool_down: 30s, half_open_probes: 1 }`
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        self.init(
            failureRatio: try container.decodeIfPresent(Double.self, forKey: .failureRatio) ?? defaults.failureRatio,
            minimumRequests: try container.decodeIfPresent(Int.self, forKey: .minimumRequests) ?? defaults.minimumRequests,
            window: try container.decodeIfPresent(ConfigDurationValue.self, forKey: .window)?.duration ?? defaults.window,
            coolDown: try container.decodeIfPresent(ConfigDurationValue.self, forKey: .coolDown)?.duration ?? defaults.coolDown,
            halfOpenProbes: try container.decodeIfPresent(Int.self, forKey: .halfOpenProbes) ?? defaults.halfOpenProbes
        )
        guard self.failureRatio > 0, self.failureRatio <= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .failureRatio, in: container, debugDescription: "a ratio in (0, 1]")
        }
        guard self.minimumRequests >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .minimumRequests, in: container, debugDescription: "at least 1")
        }
        guard self.window > .zero, self.coolDown > .zero else {
            throw DecodingError.dataCorruptedError(forKey: .window, in: container, debugDescription: "window and cool_down must be positive")
        }
        guard self.halfOpenProbes >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .halfOpenProbes, in: container, debugDescription: "at least 1")
        }
    }
}
