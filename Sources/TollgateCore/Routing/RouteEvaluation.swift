// MARK: - Compiled conditions

/// A feature with keyword and pattern names resolved to indices.
enum FeatureSlot: Sendable, Equatable {
    case model, isAlias, promptTokens, messages, maxTokens
    case hasTools, hasImages, hasResponseFormat, codeBlocks, hasCode
    case keyword(Int), systemKeyword(Int), pattern(Int), systemPattern(Int)
    /// An index into `RoutingEngine.tagNames`, so that the enum holds no references.
    case key, keyID, team, user, tag(Int)
    case budgetUsedPct, hour, weekday, score, tier
}

/// The value of a feature for one request. Tiers and weekdays are numbers (rank, ISO day).
enum FeatureValue {
    case number(Double)
    case string(String)
    case bool(Bool)
    case missing
}

struct CompiledComparison: Sendable {
    var slot: FeatureSlot
    var op: ComparisonOperator
    var operand: ConditionOperand
    /// As ops wrote it, for `explain`: `prompt_tokens gte 2000`.
    var text: String

    func evaluate(_ value: FeatureValue) -> Bool {
        if self.op == .exists {
            guard case .bool(let expected) = self.operand else { return false }
            if case .missing = value { return !expected }
            return expected
        }
        switch value {
        case .missing:
            // An unset feature equals nothing: only `ne` and `not_in` hold.
            return self.op == .ne || self.op == .notIn
        case .number(let n):
            switch self.op {
            case .eq, .ne:
                guard case .number(let b) = self.operand else { return false }
                return (n == b) == (self.op == .eq)
            case .in, .notIn:
                guard case .numbers(let list) = self.operand else { return false }
                return list.contains(n) == (self.op == .in)
            case .lt, .lte, .gt, .gte:
                guard case .number(let bound) = self.operand else { return false }
                switch self.op {
                case .lt: return n < bound
                case .lte: return n <= bound
                case .gt: return n > bound
                default: return n >= bound
                }
            default: return false
            }
        case .string(let text):
            switch self.op {
            case .eq, .ne:
                guard case .string(let b) = self.operand else { return false }
                return (text == b) == (self.op == .eq)
            case .in, .notIn:
                guard case .strings(let list) = self.operand else { return false }
                return list.contains(text) == (self.op == .in)
            case .matches:
                guard case .regex(let regex) = self.operand else { return false }
                return regex.matches(text)
            case .contains:
                guard case .string(let needle) = self.operand else { return false }
                return text.utf8.firstRange(of: needle.utf8) != nil
            default: return false
            }
        case .bool(let flag):
            guard case .bool(let b) = self.operand else { return false }
            switch self.op {
            case .eq: return flag == b
            case .ne: return flag != b
            default: return false
            }
        }
    }
}

indirect enum CompiledCondition: Sendable {
    case all([CompiledCondition])
    case any([CompiledCondition])
    case not(CompiledCondition)
    case test(CompiledComparison)
}

/// All routes' conditions flattened into arrays of plain values, so that evaluating them
/// reads memory without reference counting.
struct ConditionProgram: Sendable {
    enum Kind: UInt8, Sendable { case all, any, not, test }

    /// `test`: `start` is the comparison; `all`/`any`: children are `children[start..<start+count]`;
    /// `not`: `start` is the child node.
    struct Node: Sendable {
        var kind: Kind
        var start: Int32
        var count: Int32
    }

    var nodes: [Node] = []
    var children: [Int32] = []
    var comparisons: [CompiledComparison] = []

    /// Adds a condition tree; returns its root node.
    mutating func add(_ condition: CompiledCondition) -> Int32 {
        let node: Node
        switch condition {
        case .test(let comparison):
            self.comparisons.append(comparison)
            node = Node(kind: .test, start: Int32(self.comparisons.count - 1), count: 0)
        case .not(let inner):
            node = Node(kind: .not, start: self.add(inner), count: 0)
        case .all(let list), .any(let list):
            let roots = list.map { self.add($0) }
            node = Node(kind: condition.isAll ? .all : .any, start: Int32(self.children.count), count: Int32(roots.count))
            self.children += roots
        }
        self.nodes.append(node)
        return Int32(self.nodes.count - 1)
    }
}

extension CompiledCondition {
    fileprivate var isAll: Bool {
        if case .all = self { return true }
        return false
    }
}

// MARK: - Per-request state

/// Features of one request plus what the rules computed from them lazily: keyword scans,
/// pattern matches and the complexity score, each at most once per evaluation. The scratch
/// buffer lives on the stack (`withUnsafeTemporaryAllocation`), so evaluation does not
/// allocate.
struct EvaluationState {
    /// Valid for the duration of one evaluation (see `RoutingEngine.withState`).
    private let featuresPointer: UnsafePointer<RequestFeatures>
    let isAlias: Bool
    unowned(unsafe) let rules: RoutingEngine
    private let nodes: UnsafeBufferPointer<ConditionProgram.Node>
    private let children: UnsafeBufferPointer<Int32>
    private let comparisons: UnsafeBufferPointer<CompiledComparison>
    /// [user keyword lists | system keyword lists | user patterns | system patterns];
    /// keyword entries are 0/1, pattern entries 0 unknown, 1 no, 2 yes.
    let scratch: UnsafeMutableBufferPointer<UInt8>
    /// Text features a replayed record lacks (see `RequestFeatures.recordedText`); they
    /// evaluate as no match.
    private(set) var unrecordedText: [String] = []
    private var userScanned = false
    private var systemScanned = false
    private var cachedScore: Double?

    init(
        features: UnsafePointer<RequestFeatures>, isAlias: Bool, rules: RoutingEngine,
        nodes: UnsafeBufferPointer<ConditionProgram.Node>, children: UnsafeBufferPointer<Int32>,
        comparisons: UnsafeBufferPointer<CompiledComparison>, scratch: UnsafeMutableBufferPointer<UInt8>
    ) {
        self.featuresPointer = features
        self.isAlias = isAlias
        self.rules = rules
        self.nodes = nodes
        self.children = children
        self.comparisons = comparisons
        self.scratch = scratch
        scratch.initialize(repeating: 0)
    }

    var features: RequestFeatures { self.featuresPointer.pointee }

    /// Whether the program node `index` holds for this request.
    mutating func holds(_ index: Int32) -> Bool {
        let node = self.nodes[Int(index)]
        switch node.kind {
        case .test:
            let comparison = self.comparisons.baseAddress! + Int(node.start)
            let value = self.value(of: comparison.pointee.slot)
            return comparison.pointee.evaluate(value)
        case .all:
            for position in Int(node.start)..<Int(node.start + node.count) where !self.holds(self.children[position]) { return false }
            return true
        case .any:
            for position in Int(node.start)..<Int(node.start + node.count) where self.holds(self.children[position]) { return true }
            return false
        case .not:
            return !self.holds(node.start)
        }
    }

    static func scratchSize(keywordLists: Int, patterns: Int) -> Int { 2 * keywordLists + 2 * patterns }

    mutating func keyword(_ index: Int, system: Bool) -> Bool {
        if let recorded = self.featuresPointer.pointee.recordedText {
            return self.recorded(recorded, key: system ? self.rules.systemKeywordKeys[index] : self.rules.keywordKeys[index])
        }
        let count = self.rules.keywordMatcher.listCount
        let base = system ? count : 0
        if system ? !self.systemScanned : !self.userScanned {
            let region = UnsafeMutableBufferPointer(rebasing: self.scratch[base..<base + count])
            self.rules.keywordMatcher.scan(system ? self.featuresPointer.pointee.systemPrompt : self.featuresPointer.pointee.lastUserMessage, into: region)
            if system { self.systemScanned = true } else { self.userScanned = true }
        }
        return self.scratch[base + index] != 0
    }

    mutating func pattern(_ index: Int, system: Bool) -> Bool {
        if let recorded = self.featuresPointer.pointee.recordedText {
            return self.recorded(recorded, key: system ? self.rules.systemPatternKeys[index] : self.rules.patternKeys[index])
        }
        let slot = 2 * self.rules.keywordMatcher.listCount + (system ? self.rules.patterns.count : 0) + index
        if self.scratch[slot] == 0 {
            let f = self.featuresPointer
            self.scratch[slot] = self.rules.patterns[index].regex.matches(system ? f.pointee.systemPrompt : f.pointee.lastUserMessage) ? 2 : 1
        }
        return self.scratch[slot] == 2
    }

    private mutating func recorded(_ recorded: [String: Bool], key: String) -> Bool {
        if let hit = recorded[key] { return hit }
        if !self.unrecordedText.contains(key) { self.unrecordedText.append(key) }
        return false
    }

    mutating func score() -> Double {
        if let cachedScore { return cachedScore }
        var total = 0.0
        let terms = self.rules.complexityTerms
        for index in terms.indices { total += self.contribution(of: terms[index]) }
        self.cachedScore = total
        return total
    }

    mutating func contribution(of term: ComplexityModel.Term) -> Double {
        switch self.value(of: term.slot) {
        case .bool(let flag): return flag ? term.weight : 0
        case .number(let value):
            switch term.transform {
            case .linear: return term.weight * value
            case .per1k: return term.weight * value / 1000
            case .over(let threshold): return term.weight * max(0, value - threshold)
            }
        default: return 0
        }
    }

    mutating func value(of slot: FeatureSlot) -> FeatureValue {
        let f = self.featuresPointer
        switch slot {
        case .model: return .string(f.pointee.model)
        case .isAlias: return .bool(self.isAlias)
        case .promptTokens: return .number(Double(f.pointee.promptTokens))
        case .messages: return .number(Double(f.pointee.messageCount))
        case .maxTokens: return f.pointee.maxTokens.map { .number(Double($0)) } ?? .missing
        case .hasTools: return .bool(f.pointee.hasTools)
        case .hasImages: return .bool(f.pointee.hasImages)
        case .hasResponseFormat: return .bool(f.pointee.hasResponseFormat)
        case .codeBlocks: return .number(Double(f.pointee.codeBlocks))
        case .hasCode: return .bool(f.pointee.codeBlocks > 0)
        case .keyword(let index): return .bool(self.keyword(index, system: false))
        case .systemKeyword(let index): return .bool(self.keyword(index, system: true))
        case .pattern(let index): return .bool(self.pattern(index, system: false))
        case .systemPattern(let index): return .bool(self.pattern(index, system: true))
        case .key: return f.pointee.keyName.map { .string($0) } ?? .missing
        case .keyID: return f.pointee.keyID.map { .string($0) } ?? .missing
        case .team: return f.pointee.team.map { .string($0) } ?? .missing
        case .user: return f.pointee.user.map { .string($0) } ?? .missing
        case .tag(let index): return f.pointee.tags[self.rules.tagNames[index]].map { .string($0) } ?? .missing
        case .budgetUsedPct: return f.pointee.budgetUsedPercent.map { .number($0) } ?? .missing
        case .hour: return .number(Double(f.pointee.hour))
        case .weekday: return .number(Double(f.pointee.weekday))
        case .score: return .number(self.score())
        case .tier:
            return .number(Double(self.rules.tierRank(score: self.score())))
        }
    }
}
