import Foundation

/// Replaces `${NAME}` and `${NAME:-default}` in config text with environment values, so the
/// shipped files read endpoints and settings from the environment without holding them.
public enum EnvironmentInterpolation {
    public static func apply(to text: String, environment: [String: String]) throws(InterpolationError) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var rest = text[...]
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw InterpolationError(reason: "unterminated '${' in configuration")
            }
            let expression = rest[start.upperBound..<end]
            let name: Substring
            let fallback: Substring?
            if let separator = expression.range(of: ":-") {
                name = expression[..<separator.lowerBound]
                fallback = expression[separator.upperBound...]
            } else {
                name = expression
                fallback = nil
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw InterpolationError(reason: "'${\(expression)}' is not a valid environment reference")
            }
            if let value = environment[String(name)], !value.isEmpty {
                result += value
            } else if let fallback {
                result += fallback
            }
            rest = rest[rest.index(after: end)...]
        }
        result += rest
        return result
    }

    public struct InterpolationError: Error, Sendable {
        public var reason: String
    }
}
