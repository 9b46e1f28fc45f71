/// A comparison operator of a rule condition.
enum ComparisonOperator: String, CaseIterable, Sendable {
    case eq, ne, lt, lte, gt, gte
    case `in`, notIn = "not_in"
    case matches, contains, exists
}

/// The value a condition compares a feature with, as written in the file (tier names become
/// their ranks when compiled).
enum ConditionOperand: Sendable {
    case number(Double)
    case numbers([Double])
    case string(String)
    case strings([String])
    case bool(Bool)
    case regex(RoutingRegex)
}

/// A `when` condition as decoded, before names (keywords, patterns, tiers) are resolved.
indirect enum RawCondition {
    case all([RawCondition])
    case any([RawCondition])
    case not(RawCondition)
    case compare(RawComparison)
}

struct RawComparison {
    var feature: RouteFeature
    var op: ComparisonOperator
    var operand: ConditionOperand
    /// Where it sits in its file, to report unresolved names with a line.
    var codingPath: [any CodingKey]
}

extension RawCondition: Decodable {
    static let allowedKeys = "all, any, not, or feature with one of " + ComparisonOperator.allCases.map(\.rawValue).joined(separator: ", ")

    init(from decoder: any Decoder) throws {
        // A list is shorthand for `all`.
        if (try? decoder.unkeyedContainer()) != nil {
            let list = try [RawCondition](from: decoder)
            guard !list.isEmpty else { throw decoder.invalid("a condition list needs at least one condition") }
            self = .all(list)
            return
        }
        let container = try decoder.container(keyedBy: JSONKey.self)
        let keys = container.allKeys
        for combinator in ["all", "any", "not"] where keys.contains(where: { $0.stringValue == combinator }) {
            let key = JSONKey(combinator)
            guard keys.count == 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "'\(combinator)' must be the only key of its condition"
                )
            }
            switch combinator {
            case "not":
                self = .not(try container.decode(RawCondition.self, forKey: key))
            default:
                let list = try container.decode([RawCondition].self, forKey: key)
                guard !list.isEmpty else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "'\(combinator)' needs at least one condition")
                }
                self = combinator == "all" ? .all(list) : .any(list)
            }
            return
        }
        self = .compare(try RawComparison(container: container, decoder: decoder))
    }
}

extension RawComparison {
    init(container: KeyedDecodingContainer<JSONKey>, decoder: any Decoder) throws {
        let featureKey = JSONKey("feature")
        guard container.contains(featureKey) else {
            throw decoder.invalid("a condition needs 'feature' and an operator, or one of all, any, not")
        }
        let name = try container.decode(String.self, forKey: featureKey)
        guard let feature = RouteFeature(name: name) else {
            throw DecodingError.dataCorruptedError(
                forKey: featureKey, in: container, debugDescription: "unknown feature '\(name)' (known: \(RouteFeature.nameList))"
            )
        }
        var op: ComparisonOperator?
        for key in container.allKeys where key.stringValue != "feature" {
            guard let parsed = ComparisonOperator(rawValue: key.stringValue) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "unknown key '\(key.stringValue)' (allowed: \(RawCondition.allowedKeys))"
                )
            }
            guard op == nil else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "a condition takes one operator; split it with 'all'")
            }
            op = parsed
        }
        guard let op else {
            throw DecodingError.dataCorruptedError(
                forKey: featureKey, in: container,
                debugDescription: "missing operator (one of \(ComparisonOperator.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        self.feature = feature
        self.op = op
        self.codingPath = decoder.codingPath
        self.operand = try Self.decodeOperand(feature: feature, op: op, container: container)
    }

    private static func decodeOperand(
        feature: RouteFeature, op: ComparisonOperator, container: KeyedDecodingContainer<JSONKey>
    ) throws -> ConditionOperand {
        let key = JSONKey(op.rawValue)
        func fail(_ reason: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: reason)
        }
        let kind = feature.kind
        let what = "'\(feature.name)' is \(kind == .number ? "a number" : kind == .bool ? "true or false" : kind == .tier ? "a tier name" : kind == .weekday ? "a weekday" : "a string")"
        func scalar() throws -> ConditionOperand {
            switch kind {
            case .number:
                guard let value = try? container.decode(Double.self, forKey: key), value.isFinite else { throw fail("\(what): expected a number") }
                return .number(value)
            case .bool:
                guard let value = try? container.decode(Bool.self, forKey: key) else { throw fail("\(what): expected true or false") }
                return .bool(value)
            case .string, .tier:
                guard let value = try? container.decode(String.self, forKey: key) else { throw fail("\(what): expected a string") }
                return .string(value)
            case .weekday:
                guard let text = try? container.decode(String.self, forKey: key), let day = RouteFeature.weekdayNumber(text) else {
                    throw fail("\(what): expected one of \(RouteFeature.weekdays.joined(separator: ", "))")
                }
                return .number(Double(day))
            }
        }
        switch op {
        case .exists:
            guard feature.isOptional else { throw fail("'\(feature.name)' always has a value; 'exists' applies to optional features") }
            guard let value = try? container.decode(Bool.self, forKey: key) else { throw fail("'exists' expects true or false") }
            return .bool(value)
        case .matches:
            guard kind == .string else { throw fail("'matches' applies to string features; \(what)") }
            let source = try container.decode(String.self, forKey: key)
            do throws(RuleDefinitionError) {
                return .regex(try RoutingRegex(source))
            } catch {
                throw fail("invalid regular expression: \(error.reason)")
            }
        case .contains:
            guard kind == .string else { throw fail("'contains' applies to string features; \(what)") }
            return try scalar()
        case .eq, .ne:
            return try scalar()
        case .lt, .lte, .gt, .gte:
            guard kind != .string, kind != .bool else { throw fail("'\(op.rawValue)' does not apply: \(what)") }
            return try scalar()
        case .in, .notIn:
            guard kind != .bool else { throw fail("'\(op.rawValue)' does not apply: \(what); use eq") }
            var list = try container.nestedUnkeyedContainer(forKey: key)
            var numbers: [Double] = []
            var strings: [String] = []
            while !list.isAtEnd {
                switch kind {
                case .number:
                    guard let value = try? list.decode(Double.self), value.isFinite else { throw fail("\(what): expected a list of numbers") }
                    numbers.append(value)
                case .weekday:
                    guard let text = try? list.decode(String.self), let day = RouteFeature.weekdayNumber(text) else {
                        throw fail("\(what): expected a list of \(RouteFeature.weekdays.joined(separator: ", "))")
                    }
                    numbers.append(Double(day))
                default:
                    guard let value = try? list.decode(String.self) else { throw fail("\(what): expected a list of strings") }
                    strings.append(value)
                }
            }
            guard !numbers.isEmpty || !strings.isEmpty else { throw fail("'\(op.rawValue)' needs at least one value") }
            return kind == .number || kind == .weekday ? .numbers(numbers) : .strings(strings)
        }
    }
}
