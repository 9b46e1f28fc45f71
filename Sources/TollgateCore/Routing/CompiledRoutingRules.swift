/// The routing rules of `routes/*.yaml`, validated and compiled once at load: regexes
/// precompiled, names resolved to indices, routes sorted by priority then file order.
/// Immutable; the server swaps a whole new value in on reload, so a request keeps the rules
/// it started with.
public struct CompiledRoutingRules: Sendable {
    /// Non-default routes in evaluation order (priority descending, then file order).
    public let routes: [RoutingRule]
    /// The route that answers when no other matches.
    public let defaultRoute: RoutingRule
    /// Model names apps may send to let the rules choose (`auto`...).
    public let aliases: Set<String>
    /// The files the rules came from, in load order.
    public let files: [String]

    /// Whether a condition or the complexity score reads `budget_used_pct`: when none does,
    /// the gateway does not look the budgets up before routing.
    public let readsBudgetUsedPercent: Bool

    /// The compiled evaluation data, shared by copies of these rules.
    let engine: RoutingEngine

    /// Per alias, the concrete model a request for it is compared with for routing savings
    /// (`savings_baselines`): what the app would have asked for without the alias.
    public internal(set) var savingsBaselines: [String: String] = [:]

    /// The model whose list price measures routing savings for a request naming `model`: the
    /// model itself, or an alias's baseline (nil for an alias without one).
    public func savingsBaseline(for model: String) -> String? {
        self.aliases.contains(model) ? self.savingsBaselines[model] : model
    }

    /// The templates of `prompts/` that `template:` fallbacks render, loaded with the rules
    /// (a reload picks up edited templates too).
    public var templates = PromptTemplates()

    init(
        routes: [RoutingRule], defaultRoute: RoutingRule, aliases: Set<String>, files: [String],
        keywordLists: [(name: String, phrases: [String])], patterns: [(name: String, regex: RoutingRegex)],
        complexity: ComplexityModel?, tagNames: [String], readsBudgetUsedPercent: Bool
    ) {
        self.readsBudgetUsedPercent = readsBudgetUsedPercent
        self.routes = routes
        self.defaultRoute = defaultRoute
        self.aliases = aliases
        self.files = files
        self.engine = RoutingEngine(
            routes: routes, keywordLists: keywordLists, patterns: patterns, complexity: complexity, tagNames: tagNames
        )
    }

    /// Whether `model` is an alias the rules declare.
    public func isAlias(_ model: String) -> Bool { self.aliases.contains(model) }

    /// The names of the complexity tiers, lowest first (empty without `complexity`).
    public var tierNames: [String] { self.engine.complexity?.tiers.map(\.name) ?? [] }

    // MARK: - Evaluation

    /// Picks the route for a request: the first route, by priority then file order, whose
    /// condition holds and which may serve the request (see `RoutingRule.skipReason`), else
    /// the default route. Never fails: load guarantees the default serves aliases.
    /// Allocation-free apart from the decision's copies; regexes run only when a condition
    /// reaches them, keyword lists are scanned once.
    public func evaluate(_ features: RequestFeatures) -> RouteDecision {
        let isAlias = self.aliases.contains(features.model)
        let index = self.engine.withState(features, isAlias: isAlias) { state in
            self.engine.firstMatch(model: features.model, isAlias: isAlias, state: &state)
        }
        let route = index.map { self.routes[$0] } ?? self.defaultRoute
        return route.decision(for: features.model, isAlias: isAlias)
    }

    /// `evaluate`, plus the request's record for the ledger (`RecordedFeatures`): every text
    /// feature these rules test is evaluated, so that replay knows its outcome.
    /// - Parameter budgetKnown: whether `features.budgetUsedPercent` was looked up.
    public func evaluateRecording(_ features: RequestFeatures, budgetKnown: Bool) -> (decision: RouteDecision, record: String) {
        let isAlias = self.aliases.contains(features.model)
        let (index, text) = self.engine.withState(features, isAlias: isAlias) { state in
            let index = self.engine.firstMatch(model: features.model, isAlias: isAlias, state: &state)
            let text = self.engine.textFeatures.map { feature in
                guard case .bool(let hit) = state.value(of: feature.slot) else { return (key: feature.key, hit: false) }
                return (key: feature.key, hit: hit)
            }
            return (index, text)
        }
        let decision = (index.map { self.routes[$0] } ?? self.defaultRoute).decision(for: features.model, isAlias: isAlias)
        return (decision, RecordedFeatures.json(features, decision: decision, budgetKnown: budgetKnown, text: text))
    }

    /// Evaluates a replayed record (`RecordedFeatures.requestFeatures`): the decision, and the
    /// text features these rules read that the record lacks (new or edited lists and
    /// patterns), which evaluated as no match.
    public func replay(_ features: RequestFeatures) -> (decision: RouteDecision, unrecordedText: [String]) {
        let isAlias = self.aliases.contains(features.model)
        let (index, unrecorded) = self.engine.withState(features, isAlias: isAlias) { state in
            (self.engine.firstMatch(model: features.model, isAlias: isAlias, state: &state), state.unrecordedText)
        }
        return ((index.map { self.routes[$0] } ?? self.defaultRoute).decision(for: features.model, isAlias: isAlias), unrecorded)
    }
}

/// What evaluation reads, in a class so that an evaluation holds one reference to it.
final class RoutingEngine: Sendable {
    /// Per non-default route, in evaluation order: what `mayServe` and the condition need.
    struct Plan: Sendable {
        var root: Int32  // -1: no condition
        var isPassthrough: Bool
        var overrideConcreteModel: Bool
        var targetModel: String?
    }

    let plans: [Plan]
    let program: ConditionProgram
    let keywordLists: [(name: String, phrases: [String])]
    let keywordMatcher: KeywordMatcher
    let patterns: [(name: String, regex: RoutingRegex)]
    let complexity: ComplexityModel?
    let complexityTerms: [ComplexityModel.Term]
    let tagNames: [String]
    let scratchSize: Int
    /// The names text features are recorded under (`RecordedFeatures.text`), per list or
    /// pattern index, and the text features some condition or complexity term reads.
    let keywordKeys: [String]
    let systemKeywordKeys: [String]
    let patternKeys: [String]
    let systemPatternKeys: [String]
    let textFeatures: [(slot: FeatureSlot, key: String)]

    init(
        routes: [RoutingRule], keywordLists: [(name: String, phrases: [String])],
        patterns: [(name: String, regex: RoutingRegex)], complexity: ComplexityModel?, tagNames: [String]
    ) {
        var program = ConditionProgram()
        self.plans = routes.map { route in
            Plan(
                root: route.condition.map { program.add($0) } ?? -1, isPassthrough: route.target == .passthrough,
                overrideConcreteModel: route.overrideConcreteModel, targetModel: route.target.model
            )
        }
        self.program = program
        self.keywordLists = keywordLists
        self.keywordMatcher = KeywordMatcher(lists: keywordLists.map(\.phrases))
        self.patterns = patterns
        self.complexity = complexity
        self.complexityTerms = complexity?.terms ?? []
        self.tagNames = tagNames
        self.scratchSize = EvaluationState.scratchSize(keywordLists: keywordLists.count, patterns: patterns.count)
        let keywordDefinitions = keywordLists.map { Self.keywordDefinition($0.phrases) }
        self.keywordKeys = zip(keywordLists, keywordDefinitions).map { Self.textKey("keyword.\($0.name)", definition: $1) }
        self.systemKeywordKeys = zip(keywordLists, keywordDefinitions).map { Self.textKey("system_keyword.\($0.name)", definition: $1) }
        self.patternKeys = patterns.map { Self.textKey("pattern.\($0.name)", definition: $0.regex.source) }
        self.systemPatternKeys = patterns.map { Self.textKey("system_pattern.\($0.name)", definition: $0.regex.source) }
        var textFeatures: [(slot: FeatureSlot, key: String)] = []
        for slot in program.comparisons.map(\.slot) + (complexity?.terms.map(\.slot) ?? []) {
            let key: String
            switch slot {
            case .keyword(let index): key = self.keywordKeys[index]
            case .systemKeyword(let index): key = self.systemKeywordKeys[index]
            case .pattern(let index): key = self.patternKeys[index]
            case .systemPattern(let index): key = self.systemPatternKeys[index]
            default: continue
            }
            if !textFeatures.contains(where: { $0.key == key }) { textFeatures.append((slot, key)) }
        }
        self.textFeatures = textFeatures
    }

    func tierRank(score: Double) -> Int { self.complexity?.tierRank(score: score) ?? 0 }

    /// Runs `body` with the per-request state: pointers into the program and a stack buffer.
    func withState<R>(_ features: RequestFeatures, isAlias: Bool, _ body: (inout EvaluationState) -> R) -> R {
        withUnsafePointer(to: features) { features in
            self.program.nodes.withUnsafeBufferPointer { nodes in
                self.program.children.withUnsafeBufferPointer { children in
                    self.program.comparisons.withUnsafeBufferPointer { comparisons in
                        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: self.scratchSize) { scratch in
                            var state = EvaluationState(
                                features: features, isAlias: isAlias, rules: self, nodes: nodes, children: children,
                                comparisons: comparisons, scratch: scratch
                            )
                            return body(&state)
                        }
                    }
                }
            }
        }
    }

    /// The index of the first route that may serve the request and whose condition holds.
    func firstMatch(model: String, isAlias: Bool, state: inout EvaluationState) -> Int? {
        self.plans.withUnsafeBufferPointer { plans in
            for index in plans.indices {
                let plan = plans.baseAddress! + index
                if isAlias {
                    if plan.pointee.isPassthrough { continue }
                } else if !plan.pointee.overrideConcreteModel, let target = plan.pointee.targetModel, target != model {
                    continue
                }
                if plan.pointee.root < 0 || state.holds(plan.pointee.root) { return index }
            }
            return nil
        }
    }
}

/// One compiled route. Public for listings (`routes check`) and explanations.
public struct RoutingRule: Sendable {
    public let name: String
    public let description: String?
    public let priority: Int
    public let isDefault: Bool
    public let target: RouteTarget
    /// Only routes with this flag may change a concrete model the client asked for.
    public let overrideConcreteModel: Bool
    public let fallbacks: FallbackChain
    public let timeouts: RouteTimeouts
    public let cache: RouteCachePolicy
    public let caps: RouteCaps
    public let file: String
    public let line: Int?
    let condition: CompiledCondition?

    /// Why this route cannot serve a request for `model`, or nil when it can.
    /// - An alias needs a route that names a model: `passthrough` routes are skipped.
    /// - A concrete model is never changed by a route without `override_concrete_model`:
    ///   such routes are skipped unless they name that same model. The default route is
    ///   never skipped; on a concrete model it passes the model through instead.
    public func skipReason(model: String, isAlias: Bool) -> String? {
        guard !self.isDefault else { return nil }
        if isAlias {
            return self.target == .passthrough ? "passthrough cannot serve the alias '\(model)'" : nil
        }
        guard let targetModel = self.target.model, targetModel != model, !self.overrideConcreteModel else { return nil }
        return "would change the requested model '\(model)' to '\(targetModel)' (needs override_concrete_model: true)"
    }

    func decision(for requested: String, isAlias: Bool) -> RouteDecision {
        var model = requested
        var deployments: DeploymentGroup?
        switch self.target {
        case .passthrough: break
        case .model(let target):
            if isAlias || self.overrideConcreteModel || target == requested { model = target }
        case .deployments(let group):
            if isAlias || self.overrideConcreteModel || group.model == requested {
                model = group.model
                deployments = group
            }
        }
        return RouteDecision(
            route: self.name, model: model, deployments: deployments, requestedModel: requested,
            requestedAlias: isAlias, modelChanged: model != requested, fallbacks: self.fallbacks,
            timeouts: self.timeouts, cache: self.cache, caps: self.caps
        )
    }
}

// MARK: - Checks against tollgate.yaml

extension CompiledRoutingRules {
    /// Checks that every model a route targets or falls back to is one `tollgate.yaml` maps,
    /// and every deployment's provider is declared. For `routes check` and server start,
    /// which know the model mappings; the rules files alone do not.
    /// - Parameters:
    ///   - isKnownModel: e.g. `{ registry.resolve(model: $0) != nil }`.
    ///   - isKnownProvider: e.g. `{ config.providers[$0] != nil }`.
    public func checkReferences(isKnownModel: (String) -> Bool, isKnownProvider: (String) -> Bool) throws(ConfigError) {
        try self.checkTemplates()
        for rule in self.routes + [self.defaultRoute] {
            func fail(_ key: String, _ reason: String) -> ConfigError {
                ConfigError(file: rule.file, line: rule.line, key: key, reason: "route '\(rule.name)': \(reason)")
            }
            if let model = rule.target.model, !isKnownModel(model) {
                throw fail("target", "no provider serves model '\(model)' (see models in tollgate.yaml)")
            }
            if case .deployments(let group) = rule.target {
                for deployment in group.deployments {
                    if let provider = deployment.provider, !isKnownProvider(provider) {
                        throw fail("target.deployments", "unknown provider '\(provider)' (see providers in tollgate.yaml)")
                    }
                }
            }
            for model in rule.fallbacks.models where !isKnownModel(model) {
                throw fail("fallbacks", "no provider serves model '\(model)' (see models in tollgate.yaml)")
            }
        }
    }

    /// Every `template:` fallback names a template of `templates`.
    public func checkTemplates() throws(ConfigError) {
        for rule in self.routes + [self.defaultRoute] {
            if let template = rule.fallbacks.template, !self.templates.contains(template) {
                let known = self.templates.names.joined(separator: ", ")
                throw ConfigError(
                    file: rule.file, line: rule.line, key: "fallbacks",
                    reason: "route '\(rule.name)': no template '\(template)' (\(self.templates.directory)/\(template).mustache; defined: \(known.isEmpty ? "none" : known))"
                )
            }
        }
    }
}
