import Foundation
import Yams

// MARK: - Loading and merging `routes/*.yaml`

extension CompiledRoutingRules {
    /// Loads every `*.yaml` / `*.yml` file of `directory` in name order and compiles them.
    /// Merge rule: routes are concatenated in file order; `aliases` add up; each keyword
    /// list, pattern and route name is defined once across all files; `complexity` is
    /// defined in at most one file; exactly one route is `default: true`.
    public static func load(directory: String, environment: [String: String]) throws(ConfigError) -> CompiledRoutingRules {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfigError(file: directory, reason: "cannot read the routes directory")
        }
        let files = names
            .filter { !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
            .sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
        guard !files.isEmpty else {
            throw ConfigError(file: directory, reason: "no rules files (*.yaml); at least one must define the default route")
        }
        var sources: [(file: String, yaml: String)] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigError(file: file, reason: "cannot read the file")
            }
            sources.append((file, text))
        }
        return try self.compile(sources: sources, environment: environment)
    }

    /// Compiles rules given as text, in the order given (what `load` does after reading).
    public static func compile(sources: [(file: String, yaml: String)], environment: [String: String]) throws(ConfigError) -> CompiledRoutingRules {
        var parsed: [ParsedFile] = []
        for source in sources {
            let rules = try ConfigLoader.decode(RoutingRulesFile.self, yaml: source.yaml, file: source.file, environment: environment)
            parsed.append(ParsedFile(file: source.file, rules: rules, root: Self.compose(source.yaml, environment: environment)))
        }
        var compiler = RulesCompiler(files: parsed)
        return try compiler.compile()
    }

    /// The YAML tree of a file that decoded, to give lines to errors found after decoding.
    private static func compose(_ yaml: String, environment: [String: String]) -> Node? {
        guard let text = try? EnvironmentInterpolation.apply(to: yaml, environment: environment) else { return nil }
        return try? Yams.compose(yaml: text)
    }
}

struct ParsedFile {
    var file: String
    var rules: RoutingRulesFile
    var root: Node?

    func error(at path: [any CodingKey], _ reason: String) -> ConfigError {
        ConfigError(
            file: self.file,
            line: self.root.flatMap { ConfigLoader.node(at: path, in: $0)?.mark?.line },
            key: CodingPathFormatter.format(path),
            reason: reason
        )
    }
}

/// Merges decoded files and resolves names into a `CompiledRoutingRules`.
struct RulesCompiler {
    let files: [ParsedFile]
    private var keywordIndex: [String: Int] = [:]
    private var patternIndex: [String: Int] = [:]
    private var complexity: ComplexityModel?
    private var tagNames: [String] = []
    private var readsBudgetUsedPercent = false

    init(files: [ParsedFile]) { self.files = files }

    mutating func compile() throws(ConfigError) -> CompiledRoutingRules {
        var keywordLists: [(name: String, phrases: [String])] = []
        var patterns: [(name: String, regex: RoutingRegex)] = []
        var aliases = Set<String>()
        var complexitySource: (file: ParsedFile, raw: RawComplexity)?
        var keywordFiles: [String: String] = [:]
        var patternFiles: [String: String] = [:]

        for file in self.files {
            for (name, phrases) in file.rules.keywords ?? [] {
                if let other = keywordFiles[name] {
                    throw file.error(at: [JSONKey("keywords"), JSONKey(name)], "keyword list '\(name)' is already defined in \(other)")
                }
                keywordFiles[name] = file.file
                self.keywordIndex[name] = keywordLists.count
                keywordLists.append((name, phrases))
            }
            for (name, regex) in file.rules.patterns ?? [] {
                if let other = patternFiles[name] {
                    throw file.error(at: [JSONKey("patterns"), JSONKey(name)], "pattern '\(name)' is already defined in \(other)")
                }
                patternFiles[name] = file.file
                self.patternIndex[name] = patterns.count
                patterns.append((name, regex))
            }
            aliases.formUnion(file.rules.aliases ?? [])
            if let raw = file.rules.complexity {
                if let previous = complexitySource {
                    throw file.error(at: [JSONKey("complexity")], "complexity is already defined in \(previous.file.file); define it once")
                }
                complexitySource = (file, raw)
            }
        }
        if let (file, raw) = complexitySource {
            var terms: [ComplexityModel.Term] = []
            for term in raw.terms {
                terms.append(.init(label: term.label, slot: try self.resolve(term.feature, file: file, path: term.codingPath), transform: term.transform, weight: term.weight))
            }
            self.complexity = ComplexityModel(terms: terms, tiers: raw.tiers.sorted { $0.cutoff < $1.cutoff })
        }

        var ordered: [(rule: RoutingRule, order: Int)] = []
        var defaultRoute: (rule: RoutingRule, file: ParsedFile)?
        var seenNames: [String: String] = [:]
        for file in self.files {
            for (index, raw) in file.rules.routes.enumerated() {
                let path: [any CodingKey] = [JSONKey("routes"), JSONKey("Index \(index)")]
                if let other = seenNames[raw.name] {
                    throw file.error(at: path + [JSONKey("name")], "duplicate route name '\(raw.name)' (also in \(other))")
                }
                seenNames[raw.name] = file.file
                try self.checkModels(raw, aliases: aliases, file: file, path: path)
                var condition: CompiledCondition?
                if let when = raw.when { condition = try self.compile(when, file: file) }
                let rule = RoutingRule(
                    name: raw.name, description: raw.description, priority: raw.priority, isDefault: raw.isDefault,
                    target: raw.target, overrideConcreteModel: raw.overrideConcreteModel, fallbacks: raw.fallbacks,
                    timeouts: raw.timeouts, cache: raw.cache, caps: raw.caps, file: file.file,
                    line: file.root.flatMap { ConfigLoader.node(at: path, in: $0)?.mark?.line },
                    condition: condition
                )
                if rule.isDefault {
                    if let previous = defaultRoute {
                        throw file.error(
                            at: path + [JSONKey("default")],
                            "a second default route ('\(previous.rule.name)' in \(previous.file.file) is the default); keep one"
                        )
                    }
                    defaultRoute = (rule, file)
                } else {
                    ordered.append((rule, ordered.count))
                }
            }
        }
        guard let (defaultRule, defaultFile) = defaultRoute else {
            throw ConfigError(
                file: self.files.last?.file ?? "routes", reason: "no default route: add a route with 'default: true' (it answers when no other matches)"
            )
        }
        if !aliases.isEmpty, defaultRule.target == .passthrough {
            let index = defaultFile.rules.routes.firstIndex { $0.isDefault } ?? 0
            throw defaultFile.error(
                at: [JSONKey("routes"), JSONKey("Index \(index)"), JSONKey("target")],
                "the default route must name a model when aliases are declared (\(aliases.sorted().joined(separator: ", "))): requests for an alias need a concrete model"
            )
        }
        ordered.sort { $0.rule.priority != $1.rule.priority ? $0.rule.priority > $1.rule.priority : $0.order < $1.order }
        var rules = CompiledRoutingRules(
            routes: ordered.map(\.rule), defaultRoute: defaultRule, aliases: aliases, files: self.files.map(\.file),
            keywordLists: keywordLists, patterns: patterns, complexity: self.complexity,
            tagNames: self.tagNames, readsBudgetUsedPercent: self.readsBudgetUsedPercent
        )
        rules.savingsBaselines = try self.savingsBaselines(aliases: aliases)
        return rules
    }

    /// `savings_baselines`: each names a declared alias once, and a concrete model.
    private func savingsBaselines(aliases: Set<String>) throws(ConfigError) -> [String: String] {
        var baselines: [String: (model: String, file: String)] = [:]
        for file in self.files {
            for (alias, model) in file.rules.savingsBaselines ?? [] {
                let path: [any CodingKey] = [JSONKey("savings_baselines"), JSONKey(alias)]
                guard aliases.contains(alias) else {
                    throw file.error(at: path, "'\(alias)' is not a declared alias (aliases: \(aliases.sorted().joined(separator: ", ")))")
                }
                if let other = baselines[alias] {
                    throw file.error(at: path, "the savings baseline of '\(alias)' is already set in \(other.file)")
                }
                guard !aliases.contains(model) else {
                    throw file.error(at: path, "a savings baseline names a concrete model, not the alias '\(model)'")
                }
                baselines[alias] = (model, file.file)
            }
        }
        return baselines.mapValues(\.model)
    }

    /// Targets and fallbacks name concrete models, never aliases.
    private func checkModels(_ raw: RawRoute, aliases: Set<String>, file: ParsedFile, path: [any CodingKey]) throws(ConfigError) {
        if let model = raw.target.model, aliases.contains(model) {
            throw file.error(at: path + [JSONKey("target")], "'\(model)' is an alias; a target names a concrete model")
        }
        if let model = raw.fallbacks.models.first(where: aliases.contains) {
            throw file.error(at: path + [JSONKey("fallbacks")], "'\(model)' is an alias; fallbacks name concrete models")
        }
    }

    private mutating func compile(_ raw: RawCondition, file: ParsedFile) throws(ConfigError) -> CompiledCondition {
        switch raw {
        case .all(let list), .any(let list):
            var compiled: [CompiledCondition] = []
            for condition in list { compiled.append(try self.compile(condition, file: file)) }
            if case .all = raw { return .all(compiled) }
            return .any(compiled)
        case .not(let inner): return .not(try self.compile(inner, file: file))
        case .compare(let comparison):
            let slot = try self.resolve(comparison.feature, file: file, path: comparison.codingPath + [JSONKey("feature")])
            var operand = comparison.operand
            if comparison.feature == .tier {
                operand = try self.tierOperand(operand, file: file, path: comparison.codingPath + [JSONKey(comparison.op.rawValue)])
            }
            return .test(CompiledComparison(slot: slot, op: comparison.op, operand: operand, text: Self.describe(comparison)))
        }
    }

    private func tierOperand(_ operand: ConditionOperand, file: ParsedFile, path: [any CodingKey]) throws(ConfigError) -> ConditionOperand {
        guard let complexity = self.complexity else { throw file.error(at: path, "'tier' needs a 'complexity' section") }
        func rank(_ name: String) throws(ConfigError) -> Double {
            guard let rank = complexity.rank(ofTier: name) else {
                throw file.error(at: path, "unknown tier '\(name)' (tiers: \(complexity.tiers.map(\.name).joined(separator: ", ")))")
            }
            return Double(rank)
        }
        switch operand {
        case .string(let name): return .number(try rank(name))
        case .strings(let names): return .numbers(try names.map { n throws(ConfigError) in try rank(n) })
        default: return operand
        }
    }

    private mutating func resolve(_ feature: RouteFeature, file: ParsedFile, path: [any CodingKey]) throws(ConfigError) -> FeatureSlot {
        func index(_ name: String, in table: [String: Int], what: String) throws(ConfigError) -> Int {
            guard let index = table[name] else {
                let known = table.keys.sorted().joined(separator: ", ")
                throw file.error(at: path, "unknown \(what) '\(name)' (defined: \(known.isEmpty ? "none" : known))")
            }
            return index
        }
        switch feature {
        case .model: return .model
        case .isAlias: return .isAlias
        case .promptTokens: return .promptTokens
        case .messages: return .messages
        case .maxTokens: return .maxTokens
        case .hasTools: return .hasTools
        case .hasImages: return .hasImages
        case .hasResponseFormat: return .hasResponseFormat
        case .codeBlocks: return .codeBlocks
        case .hasCode: return .hasCode
        case .keyword(let name): return .keyword(try index(name, in: self.keywordIndex, what: "keyword list"))
        case .systemKeyword(let name): return .systemKeyword(try index(name, in: self.keywordIndex, what: "keyword list"))
        case .pattern(let name): return .pattern(try index(name, in: self.patternIndex, what: "pattern"))
        case .systemPattern(let name): return .systemPattern(try index(name, in: self.patternIndex, what: "pattern"))
        case .key: return .key
        case .keyID: return .keyID
        case .team: return .team
        case .user: return .user
        case .tag(let name):
            if let index = self.tagNames.firstIndex(of: name) { return .tag(index) }
            self.tagNames.append(name)
            return .tag(self.tagNames.count - 1)
        case .budgetUsedPct:
            self.readsBudgetUsedPercent = true
            return .budgetUsedPct
        case .hour: return .hour
        case .weekday: return .weekday
        case .score, .tier:
            guard self.complexity != nil else { throw file.error(at: path, "'\(feature.name)' needs a 'complexity' section") }
            return feature == .score ? .score : .tier
        }
    }

    static func describe(_ comparison: RawComparison) -> String {
        let operand: String
        switch comparison.operand {
        case .number(let n): operand = comparison.feature == .weekday ? RouteFeature.weekdays[Int(n) - 1] : n.compact
        case .numbers(let list):
            operand = "[" + list.map { comparison.feature == .weekday ? RouteFeature.weekdays[Int($0) - 1] : $0.compact }.joined(separator: ", ") + "]"
        case .string(let s): operand = s
        case .strings(let list): operand = "[" + list.joined(separator: ", ") + "]"
        case .bool(let b): operand = String(b)
        case .regex(let r): operand = "'\(r.source)'"
        }
        return "\(comparison.feature.name) \(comparison.op.rawValue) \(operand)"
    }
}

extension Double {
    /// `2000` rather than `2000.0`.
    var compact: String {
        self == self.rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self)
    }
}
