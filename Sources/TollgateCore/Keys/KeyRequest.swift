import Foundation

/// What a new gateway key should be: from `tollgate keys create` or `POST /admin/keys`
/// (JSON: `name`, `team`, `user`, `models`, `rpm`, `tpm`, `max_concurrent`, `daily_budget_usd`).
public struct KeyRequest: Sendable, Equatable, Decodable {
    public var name: String
    public var team: String?
    public var user: String?
    /// Model names or `*` patterns; nil allows every model.
    public var allowedModels: [String]?
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var maxConcurrent: Int?
    public var dailyBudgetUSD: Double?

    public init(
        name: String, team: String? = nil, user: String? = nil, allowedModels: [String]? = nil, requestsPerMinute: Int? = nil,
        tokensPerMinute: Int? = nil, maxConcurrent: Int? = nil, dailyBudgetUSD: Double? = nil
    ) {
        self.name = name
        self.team = team
        self.user = user
        self.allowedModels = allowedModels
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxConcurrent = maxConcurrent
        self.dailyBudgetUSD = dailyBudgetUSD
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, team, user
        case allowedModels = "models"
        case requestsPerMinute = "rpm"
        case tokensPerMinute = "tpm"
        case maxConcurrent = "max_concurrent"
        case dailyBudgetUSD = "daily_budget_usd"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        try self.init(fieldsFrom: decoder)
    }

    /// The key's fields of an object that may hold others (`budgets/keys.yaml` adds the secret's source).
    init(fieldsFrom decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        self.team = try container.decodeIfPresent(String.self, forKey: .team)
        self.user = try container.decodeIfPresent(String.self, forKey: .user)
        self.allowedModels = try container.decodeIfPresent([String].self, forKey: .allowedModels)
        self.requestsPerMinute = try container.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
        self.tokensPerMinute = try container.decodeIfPresent(Int.self, forKey: .tokensPerMinute)
        self.maxConcurrent = try container.decodeIfPresent(Int.self, forKey: .maxConcurrent)
        self.dailyBudgetUSD = try container.decodeIfPresent(Double.self, forKey: .dailyBudgetUSD)
    }

    /// What is wrong with the request, named as the admin API's JSON names it; nil when it can
    /// be created. Names are what reports and limits group by, so they follow the rules for
    /// client-supplied ids: at most 256 bytes, no control characters.
    public var problem: (field: String, reason: String)? {
        func badText(_ value: String?) -> Bool {
            guard let value else { return false }
            return value.isEmpty || value.utf8.count > 256 || value.unicodeScalars.contains { $0.properties.generalCategory == .control }
        }
        if self.name.trimmingCharacters(in: .whitespaces).isEmpty || badText(self.name) {
            return ("name", "must be 1 to 256 bytes without control characters")
        }
        if badText(self.team) { return ("team", "must be 1 to 256 bytes without control characters") }
        if badText(self.user) { return ("user", "must be 1 to 256 bytes without control characters") }
        if let models = self.allowedModels, models.isEmpty || models.contains(where: badText) {
            return ("models", "must list model names or patterns (omit it to allow every model)")
        }
        if let rpm = self.requestsPerMinute, rpm < 1 { return ("rpm", "must be at least 1") }
        if let tpm = self.tokensPerMinute, tpm < 1 { return ("tpm", "must be at least 1") }
        if let concurrent = self.maxConcurrent, concurrent < 1 { return ("max_concurrent", "must be at least 1") }
        if let budget = self.dailyBudgetUSD, !(budget > 0) || !budget.isFinite { return ("daily_budget_usd", "must be a positive amount of USD") }
        return nil
    }

    func key(id: String, createdAt: Date, source: GatewayKey.Source = .database) -> GatewayKey {
        GatewayKey(
            id: id, name: self.name, team: self.team, user: self.user, allowedModels: self.allowedModels,
            requestsPerMinute: self.requestsPerMinute, tokensPerMinute: self.tokensPerMinute, maxConcurrent: self.maxConcurrent,
            dailyBudgetUSD: self.dailyBudgetUSD, createdAt: createdAt, source: source
        )
    }
}
