import Foundation

/// Why a request got its route: the features, every route's verdict in evaluation order,
/// and the decision. `description` is the text `tollgate routes explain` prints.
public struct RouteExplanation: Sendable, CustomStringConvertible {
    /// Feature names and values as rules see them (keyword and pattern results, score and
    /// tier included).
    public var features: [(name: String, value: String)]
    public var verdicts: [RouteVerdict]
    public var decision: RouteDecision

    public var description: String {
        var lines = ["features:"]
        let width = self.features.map(\.name.count).max() ?? 0
        for (name, value) in self.features {
            lines.append("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
        lines.append("routes (in evaluation order):")
        for verdict in self.verdicts {
            let location = verdict.line.map { "\(verdict.file):\($0)" } ?? verdict.file
            lines.append("  \(verdict.outcome.symbol) \(verdict.route) [priority \(verdict.priority), \(location)]: \(verdict.outcome.text)")
        }
        let d = self.decision
        lines.append("decision:")
        lines.append("  route:     \(d.route)")
        var model = d.model
        if d.modelChanged { model += " (requested \(d.requestedModel))" } else if !d.requestedAlias { model += " (requested model kept)" }
        lines.append("  model:     \(model)")
        if let group = d.deployments {
            let list = group.deployments.map { "\($0.id) weight \($0.weight)" }.joined(separator: ", ")
            lines.append("  deploy:    \(group.strategy.rawValue) over \(list)")
        }
        var chain = d.fallbacks.models
        if let template = d.fallbacks.template { chain.append("template \(template)") }
        lines.append("  fallbacks: \(chain.isEmpty ? "none" : chain.joined(separator: " -> "))")
        var policies: [String] = []
        if let t = d.timeouts.firstByte { policies.append("first_byte \(t.compact)") }
        if let t = d.timeouts.idle { policies.append("idle \(t.compact)") }
        if let t = d.timeouts.total { policies.append("total \(t.compact)") }
        if !policies.isEmpty { lines.append("  timeouts:  " + policies.joined(separator: ", ")) }
        var cache: [String] = []
        if let exact = d.cache.exact { cache.append("exact \(exact ? "on" : "off")") }
        if let scope = d.cache.scope { cache.append("scope \(scope.rawValue)") }
        if let ttl = d.cache.ttl { cache.append("ttl \(ttl.compact)") }
        if let temperature = d.cache.maxTemperature { cache.append("max_temperature \(temperature)") }
        if !cache.isEmpty { lines.append("  cache:     " + cache.joined(separator: ", ")) }
        if let cap = d.caps.maxTokens { lines.append("  caps:      max_tokens \(cap)") }
        lines.append(contentsOf: Self.failureBehavior(d))
        return lines.joined(separator: "\n")
    }

    /// What a failure at each step of the chain does (`FallbackPlanner`'s rules, in words).
    static func failureBehavior(_ d: RouteDecision) -> [String] {
        let backoff = FallbackPlanner.Backoff()
        let retries = d.fallbacks.retries == 0 ? "not retried"
            : "retried \(d.fallbacks.retries)x on the same deployment (jittered backoff from \(backoff.base.compact), at most \(backoff.cap.compact), or the provider's Retry-After when it fits)"
        let firstByte = d.timeouts.firstByte.map { "no answer within first_byte \($0.compact)" } ?? "a first-byte timeout"
        var lines = ["on failure:"]
        let models = [d.model] + d.fallbacks.models.filter { $0 != d.model }
        for (index, model) in models.enumerated() {
            let siblings = index == 0 && (d.deployments?.deployments.count ?? 0) > 1 ? ", then its other deployments" : ""
            let next = index + 1 < models.count ? "step \(index + 2)" : d.fallbacks.template != nil ? "the template" : "the client (the last failure)"
            lines.append("  \(index + 1). \(model)\(index > 0 ? " (conversation trimmed to its context window when longer)" : "")")
            lines.append("     connect error, reset, idle timeout, 408, 429, 5xx, 529: \(retries)\(siblings), then \(next)")
            lines.append("     \(firstByte), 401, 403, 404, circuit open: \(next) at once")
            lines.append("     context length exceeded: a later model with a larger window, else the client; other 4xx: the client")
        }
        if let template = d.fallbacks.template {
            lines.append("  \(models.count + 1). template \(template): prompts/\(template).mustache as an ordinary answer, cost 0")
        }
        let total = d.timeouts.total.map { "total \($0.compact)" } ?? "the providers' total timeout"
        lines.append("  \(total) bounds every attempt and wait; when nothing is left, the client gets the last failure (502, 503 or 504)")
        return lines
    }
}

/// One route's verdict for a request.
public struct RouteVerdict: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// This route answers the request.
        case chosen
        /// The condition holds but an earlier route was chosen.
        case shadowed
        /// The condition failed; the reason names the failing comparison and the actual value.
        case notMatched(reason: String)
        /// The route cannot serve this request (alias / concrete-model protection).
        case skipped(reason: String)

        var symbol: String {
            switch self {
            case .chosen: "=>"
            case .shadowed: "+ "
            case .notMatched: "- "
            case .skipped: "x "
            }
        }

        var text: String {
            switch self {
            case .chosen: "chosen"
            case .shadowed: "matches, but an earlier route was chosen"
            case .notMatched(let reason): "no match: \(reason)"
            case .skipped(let reason): "skipped: \(reason)"
            }
        }
    }

    public var route: String
    public var file: String
    public var line: Int?
    public var priority: Int
    public var outcome: Outcome
}

extension CompiledRoutingRules {
    /// Evaluates every route for a request and says why each did or did not match.
    /// Gives the same decision as `evaluate`, only slower.
    public func explain(_ features: RequestFeatures) -> RouteExplanation {
        let isAlias = self.aliases.contains(features.model)
        return self.engine.withState(features, isAlias: isAlias) { state in
            var verdicts: [RouteVerdict] = []
            var chosen: RoutingRule?
            for route in self.routes + [self.defaultRoute] {
                let outcome: RouteVerdict.Outcome
                if let reason = route.skipReason(model: features.model, isAlias: isAlias) {
                    outcome = .skipped(reason: reason)
                } else if let failure = route.condition.flatMap({ Self.failure(of: $0, &state) }) {
                    outcome = .notMatched(reason: failure)
                } else if chosen == nil {
                    chosen = route
                    outcome = .chosen
                } else {
                    outcome = .shadowed
                }
                verdicts.append(RouteVerdict(route: route.name, file: route.file, line: route.line, priority: route.priority, outcome: outcome))
            }
            let decision = (chosen ?? self.defaultRoute).decision(for: features.model, isAlias: isAlias)
            return RouteExplanation(features: self.engine.describe(&state), verdicts: verdicts, decision: decision)
        }
    }

    /// Nil when the condition holds, else what failed.
    private static func failure(of condition: CompiledCondition, _ state: inout EvaluationState) -> String? {
        switch condition {
        case .test(let comparison):
            let value = state.value(of: comparison.slot)
            return comparison.evaluate(value) ? nil : "\(comparison.text) (is \(Self.render(value, slot: comparison.slot, state: state)))"
        case .all(let list):
            for inner in list { if let failure = Self.failure(of: inner, &state) { return failure } }
            return nil
        case .any(let list):
            var failures: [String] = []
            for inner in list {
                guard let failure = Self.failure(of: inner, &state) else { return nil }
                failures.append(failure)
            }
            return "none of: " + failures.joined(separator: "; ")
        case .not(let inner):
            return Self.failure(of: inner, &state) == nil ? "not (\(Self.summary(of: inner))) holds" : nil
        }
    }

    private static func summary(of condition: CompiledCondition) -> String {
        switch condition {
        case .test(let comparison): comparison.text
        case .all(let list): "all of: " + list.map(Self.summary).joined(separator: "; ")
        case .any(let list): "any of: " + list.map(Self.summary).joined(separator: "; ")
        case .not(let inner): "not (\(Self.summary(of: inner)))"
        }
    }

    private static func render(_ value: FeatureValue, slot: FeatureSlot, state: EvaluationState) -> String {
        switch (value, slot) {
        case (.missing, _): return "unset"
        case (.number(let n), .tier): return state.rules.complexity?.tiers[Int(n)].name ?? n.compact
        case (.number(let n), .weekday): return RouteFeature.weekdays[Int(n) - 1]
        case (.number(let n), _): return n == n.rounded() ? n.compact : String(format: "%.2f", n)
        case (.string(let s), _): return "'\(s)'"
        case (.bool(let b), _): return String(b)
        }
    }

}

extension RoutingEngine {
    func describe(_ state: inout EvaluationState) -> [(name: String, value: String)] {
        let f = state.features
        var rows: [(name: String, value: String)] = [
            ("model", f.model + (state.isAlias ? " (alias)" : "")),
            ("prompt_tokens", "\(f.promptTokens) (estimated)"),
            ("messages", "\(f.messageCount)"),
            ("max_tokens", f.maxTokens.map(String.init) ?? "unset"),
            ("has_tools", "\(f.hasTools)"), ("has_images", "\(f.hasImages)"),
            ("has_response_format", "\(f.hasResponseFormat)"), ("code_blocks", "\(f.codeBlocks)"),
        ]
        for (index, list) in self.keywordLists.enumerated() {
            rows.append(("keyword.\(list.name)", "\(state.keyword(index, system: false))"))
        }
        for (index, list) in self.keywordLists.enumerated() where !f.systemPrompt.isEmpty {
            rows.append(("system_keyword.\(list.name)", "\(state.keyword(index, system: true))"))
        }
        for (index, pattern) in self.patterns.enumerated() {
            rows.append(("pattern.\(pattern.name)", "\(state.pattern(index, system: false))"))
        }
        for (index, pattern) in self.patterns.enumerated() where !f.systemPrompt.isEmpty {
            rows.append(("system_pattern.\(pattern.name)", "\(state.pattern(index, system: true))"))
        }
        rows += [
            ("key", f.keyName ?? "unset"), ("team", f.team ?? "unset"), ("user", f.user ?? "unset"),
            ("tags", f.tags.isEmpty ? "none" : f.tags.pairs.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")),
            ("budget_used_pct", f.budgetUsedPercent.map { String(format: "%.1f", $0) } ?? "unset"),
            ("hour", "\(f.hour)"), ("weekday", RouteFeature.weekdays[max(0, min(6, f.weekday - 1))]),
        ]
        if let complexity = self.complexity {
            let score = state.score()
            let parts = complexity.terms.compactMap { term -> String? in
                let value = state.contribution(of: term)
                return value == 0 ? nil : "\(term.label) \(String(format: "%+.2f", value))"
            }
            rows.append(("score", String(format: "%.2f", score) + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")))
            let cutoffs = complexity.tiers.map { "\($0.name) >= \($0.cutoff.compact)" }.joined(separator: ", ")
            rows.append(("tier", "\(complexity.tiers[complexity.tierRank(score: score)].name) (\(cutoffs))"))
        }
        return rows
    }
}

extension Duration {
    /// `15s`, `500ms`, as config files write durations.
    var compact: String {
        let ms = self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}
