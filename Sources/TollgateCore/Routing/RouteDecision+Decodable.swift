// Decoding of the route policy types from `routes/*.yaml`.

extension RouteTarget: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable { case model, deployments, strategy }

    /// `passthrough`, a model name, `{ model: M }` or `{ deployments: [...], strategy: S }`.
    public init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            guard !text.isEmpty else { throw decoder.invalid("the target model cannot be empty") }
            self = text == "passthrough" ? .passthrough : .model(text)
            return
        }
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch (container.contains(.model), container.contains(.deployments)) {
        case (true, false):
            guard !container.contains(.strategy) else {
                throw DecodingError.dataCorruptedError(forKey: .strategy, in: container, debugDescription: "'strategy' applies to 'deployments'")
            }
            let model = try container.decode(String.self, forKey: .model)
            guard !model.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .model, in: container, debugDescription: "the model cannot be empty") }
            self = model == "passthrough" ? .passthrough : .model(model)
        case (false, true):
            let deployments = try container.decode([Deployment].self, forKey: .deployments)
            guard let first = deployments.first else {
                throw DecodingError.dataCorruptedError(forKey: .deployments, in: container, debugDescription: "list at least one deployment")
            }
            if let other = deployments.first(where: { $0.model != first.model }) {
                throw DecodingError.dataCorruptedError(
                    forKey: .deployments, in: container,
                    debugDescription: "deployments of one target serve one model ('\(first.model)' and '\(other.model)'); use fallbacks for other models"
                )
            }
            if Set(deployments.map(\.id)).count != deployments.count {
                throw DecodingError.dataCorruptedError(
                    forKey: .deployments, in: container, debugDescription: "two deployments have the same provider and model; give them distinct 'name's"
                )
            }
            let strategyName = try container.decodeIfPresent(String.self, forKey: .strategy) ?? BalancingStrategy.weighted.rawValue
            guard let strategy = BalancingStrategy(rawValue: strategyName) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .strategy, in: container,
                    debugDescription: "unknown strategy '\(strategyName)' (one of \(BalancingStrategy.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            self = .deployments(DeploymentGroup(deployments: deployments, strategy: strategy))
        default:
            throw decoder.invalid("a target needs exactly one of 'model' or 'deployments'")
        }
    }
}

extension Deployment: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable { case name, model, provider, weight }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let model = try container.decode(String.self, forKey: .model)
        let weight = try container.decodeIfPresent(Int.self, forKey: .weight) ?? 1
        guard weight > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .weight, in: container, debugDescription: "a weight must be a positive integer")
        }
        guard !model.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .model, in: container, debugDescription: "the model cannot be empty") }
        self.init(
            model: model,
            provider: try container.decodeIfPresent(String.self, forKey: .provider),
            weight: weight,
            name: try container.decodeIfPresent(String.self, forKey: .name)
        )
    }
}

extension FallbackChain: Decodable {
    /// A list of model names, optionally ending with `{ template: NAME }` (`[m1, m2, template: busy]`).
    public init(from decoder: any Decoder) throws {
        var list = try decoder.unkeyedContainer()
        self.init()
        while !list.isAtEnd {
            let index = list.currentIndex
            func fail(_ reason: String) -> DecodingError {
                .dataCorrupted(.init(codingPath: decoder.codingPath + [JSONKey("Index \(index)")], debugDescription: reason))
            }
            if let model = try? list.decode(String.self) {
                guard self.template == nil else { throw fail("the template must be the last fallback") }
                guard !model.isEmpty else { throw fail("a fallback model cannot be empty") }
                self.models.append(model)
                continue
            }
            guard let entry = try? list.nestedContainer(keyedBy: JSONKey.self),
                entry.allKeys.count == 1, entry.allKeys[0].stringValue == "template",
                let template = try? entry.decode(String.self, forKey: JSONKey("template")), !template.isEmpty
            else {
                throw fail("a fallback is a model name or 'template: NAME'")
            }
            guard self.template == nil else { throw fail("only one template fallback") }
            self.template = template
        }
    }
}

extension RouteTimeouts: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case firstByte = "first_byte"
        case idle, total
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func positive(_ key: CodingKeys) throws -> Duration? {
            guard let value = try container.decodeIfPresent(ConfigDurationValue.self, forKey: key)?.duration else { return nil }
            guard value > .zero else { throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "a timeout must be positive") }
            return value
        }
        self.init(firstByte: try positive(.firstByte), idle: try positive(.idle), total: try positive(.total))
    }
}

extension RouteCachePolicy: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case exact, semantic, threshold, scope, ttl
        case maxTemperature = "max_temperature"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var scope: Scope?
        if let name = try container.decodeIfPresent(String.self, forKey: .scope) {
            guard let value = Scope(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .scope, in: container, debugDescription: "unknown scope '\(name)' (key, user, team or global)"
                )
            }
            scope = value
        }
        let ttl = try container.decodeIfPresent(ConfigDurationValue.self, forKey: .ttl)?.duration
        if let ttl, ttl <= .zero {
            throw DecodingError.dataCorruptedError(forKey: .ttl, in: container, debugDescription: "the TTL must be positive")
        }
        let maxTemperature = try container.decodeIfPresent(Double.self, forKey: .maxTemperature)
        if let maxTemperature, !(0...2).contains(maxTemperature) {
            throw DecodingError.dataCorruptedError(forKey: .maxTemperature, in: container, debugDescription: "a temperature is 0 to 2")
        }
        let threshold = try container.decodeIfPresent(Double.self, forKey: .threshold)
        if let threshold, !(0...1).contains(threshold) {
            throw DecodingError.dataCorruptedError(
                forKey: .threshold, in: container, debugDescription: "the semantic guard's threshold is a probability, 0 to 1"
            )
        }
        self.init(
            exact: try container.decodeIfPresent(Bool.self, forKey: .exact), semantic: try container.decodeIfPresent(Bool.self, forKey: .semantic),
            threshold: threshold, scope: scope, ttl: ttl, maxTemperature: maxTemperature
        )
    }
}

extension RouteCaps: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable { case maxTokens = "max_tokens" }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        if let maxTokens, maxTokens < 1 {
            throw DecodingError.dataCorruptedError(forKey: .maxTokens, in: container, debugDescription: "max_tokens must be at least 1")
        }
        self.init(maxTokens: maxTokens)
    }
}
