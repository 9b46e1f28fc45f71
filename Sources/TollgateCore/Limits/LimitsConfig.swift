import Foundation

/// The limits one subject (a key, a team, an end user, the whole gateway) is held to.
/// `nil` means no limit of that kind.
public struct LimitSettings: Sendable, Equatable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var maxConcurrent: Int?
    public var dailyBudget: USD?
    /// Where "midnight" is for the daily budget; `nil` uses the file's default.
    public var timeZone: TimeZone?

    public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, maxConcurrent: Int? = nil, dailyBudget: USD? = nil, timeZone: TimeZone? = nil) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxConcurrent = maxConcurrent
        self.dailyBudget = dailyBudget
        self.timeZone = timeZone
    }

    public var isEmpty: Bool {
        self.requestsPerMinute == nil && self.tokensPerMinute == nil && self.maxConcurrent == nil && self.dailyBudget == nil
    }
}

extension LimitSettings: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case rpm, tpm
        case maxConcurrent = "max_concurrent"
        case dailyBudgetUSD = "daily_budget_usd"
        case timeZone = "time_zone"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func positive(_ key: CodingKeys) throws -> Int? {
            guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return nil }
            guard value >= 1 else { throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be at least 1") }
            return value
        }
        self.requestsPerMinute = try positive(.rpm)
        self.tokensPerMinute = try positive(.tpm)
        self.maxConcurrent = try positive(.maxConcurrent)
        if let dollars = try container.decodeIfPresent(Double.self, forKey: .dailyBudgetUSD) {
            guard dollars >= 0, dollars.isFinite else {
                throw DecodingError.dataCorruptedError(forKey: .dailyBudgetUSD, in: container, debugDescription: "must be a non-negative amount of USD")
            }
            self.dailyBudget = USD(dollars: dollars)
        }
        if let name = try container.decodeIfPresent(String.self, forKey: .timeZone) {
            self.timeZone = try TimeZone.named(name, for: .timeZone, in: container)
        }
    }
}

/// `budgets/limits.yaml`: rate limits and daily budgets for teams, end users and the whole
/// gateway, and how reservations are made. A key's own limits live with the key.
public struct LimitsConfig: Sendable, Equatable {
    /// Default time zone of daily budgets: they reset at local midnight there.
    public var timeZone: TimeZone
    /// Budget use (percent) past which a warning is logged and a metric counts the request;
    /// routing sees the figure as `budget_used_pct` either way.
    public var softLimitPercent: Double
    /// Output tokens reserved for a request that sets no `max_tokens`.
    public var defaultOutputReservation: Int
    public var global: LimitSettings
    public var teams: [String: LimitSettings]
    /// End users by id; `"*"` applies to every user without an entry of their own.
    public var users: [String: LimitSettings]

    public init(
        timeZone: TimeZone = TimeZone(identifier: "UTC")!,
        softLimitPercent: Double = 80,
        defaultOutputReservation: Int = 4096,
        global: LimitSettings = .init(),
        teams: [String: LimitSettings] = [:],
        users: [String: LimitSettings] = [:]
    ) {
        self.timeZone = timeZone
        self.softLimitPercent = softLimitPercent
        self.defaultOutputReservation = defaultOutputReservation
        self.global = global
        self.teams = teams
        self.users = users
    }

    public func user(_ id: String) -> LimitSettings? { self.users[id] ?? self.users["*"] }

    /// Loads `limits.yaml` from the budgets directory; no file means no team, user or global limits.
    public static func load(budgetsDirectory: String, environment: [String: String]) throws(ConfigError) -> LimitsConfig {
        let path = (budgetsDirectory as NSString).appendingPathComponent("limits.yaml")
        guard FileManager.default.fileExists(atPath: path) else { return LimitsConfig() }
        return try ConfigLoader.load(LimitsConfig.self, file: path, environment: environment)
    }
}

extension LimitsConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case global, teams, users
        case timeZone = "time_zone"
        case softLimitPercent = "soft_limit_pct"
        case defaultOutputReservation = "default_output_reservation"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        if let name = try container.decodeIfPresent(String.self, forKey: .timeZone) {
            self.timeZone = try TimeZone.named(name, for: .timeZone, in: container)
        }
        if let percent = try container.decodeIfPresent(Double.self, forKey: .softLimitPercent) {
            guard (0...100).contains(percent) else {
                throw DecodingError.dataCorruptedError(forKey: .softLimitPercent, in: container, debugDescription: "must be between 0 and 100")
            }
            self.softLimitPercent = percent
        }
        if let reservation = try container.decodeIfPresent(Int.self, forKey: .defaultOutputReservation) {
            guard reservation >= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .defaultOutputReservation, in: container, debugDescription: "must be at least 1 token")
            }
            self.defaultOutputReservation = reservation
        }
        self.global = try container.decodeIfPresent(LimitSettings.self, forKey: .global) ?? .init()
        self.teams = try container.decodeIfPresent([String: LimitSettings].self, forKey: .teams) ?? [:]
        self.users = try container.decodeIfPresent([String: LimitSettings].self, forKey: .users) ?? [:]
    }
}

extension TimeZone {
    static func named<Key: CodingKey>(_ name: String, for key: Key, in container: KeyedDecodingContainer<Key>) throws -> TimeZone {
        guard let zone = TimeZone(identifier: name) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "unknown IANA time zone '\(name)' (e.g. UTC, Europe/Paris, America/New_York)")
        }
        return zone
    }
}
