import Foundation
import Yams

/// Loads a YAML config file into a `Decodable` type: interpolates the environment, decodes
/// with Yams, and turns every failure into a `ConfigError` naming file, line, key and reason.
public enum ConfigLoader {
    public static func load<T: Decodable>(
        _ type: T.Type,
        file path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> T {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, reason: "cannot read the file (\(Self.describeReadError(error)))")
        }
        return try self.decode(type, yaml: text, file: path, environment: environment)
    }

    public static func decode<T: Decodable>(
        _ type: T.Type,
        yaml: String,
        file: String,
        environment: [String: String]
    ) throws(ConfigError) -> T {
        let text: String
        do {
            text = try EnvironmentInterpolation.apply(to: yaml, environment: environment)
        } catch {
            throw ConfigError(file: file, reason: error.reason)
        }
        let root: Node
        do {
            root = try Yams.compose(yaml: text) ?? Node.mapping(.init([]))
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error), reason: "invalid YAML: \(Self.describe(error))")
        } catch {
            throw ConfigError(file: file, reason: "invalid YAML: \(error)")
        }
        do {
            return try YAMLDecoder().decode(type, from: root)
        } catch let error as DecodingError {
            throw self.configError(error, root: root, file: file)
        } catch {
            throw ConfigError(file: file, reason: "\(error)")
        }
    }

    // MARK: - Error mapping

    static func configError(_ error: DecodingError, root: Node, file: String) -> ConfigError {
        switch error {
        case .keyNotFound(let key, let context):
            let parent = self.node(at: context.codingPath, in: root)
            return ConfigError(
                file: file,
                line: parent?.mark?.line,
                key: CodingPathFormatter.format(context.codingPath + [key]),
                reason: "required key is missing"
            )
        case .typeMismatch(let type, let context):
            return ConfigError(
                file: file,
                line: self.node(at: context.codingPath, in: root)?.mark?.line,
                key: CodingPathFormatter.format(context.codingPath),
                reason: "expected \(Self.describe(type))"
            )
        case .valueNotFound(let type, let context):
            return ConfigError(
                file: file,
                line: self.node(at: context.codingPath, in: root)?.mark?.line,
                key: CodingPathFormatter.format(context.codingPath),
                reason: "expected \(Self.describe(type)), found nothing"
            )
        case .dataCorrupted(let context):
            return ConfigError(
                file: file,
                line: self.node(at: context.codingPath, in: root)?.mark?.line,
                key: CodingPathFormatter.format(context.codingPath),
                reason: context.debugDescription
            )
        @unknown default:
            return ConfigError(file: file, reason: "\(error)")
        }
    }

    /// Follows a coding path through the YAML tree to find the node (and so the line) it names.
    static func node(at path: [any CodingKey], in root: Node) -> Node? {
        var current = root
        for (position, key) in path.enumerated() {
            if let mapping = current.mapping {
                guard let pair = mapping.first(where: { $0.key.string == key.stringValue }) else { return current }
                // The key's own line is where ops will look for the last element of a path.
                if position == path.count - 1 { return pair.key }
                current = pair.value
            } else if let sequence = current.sequence {
                let index = key.intValue ?? Int(key.stringValue.replacingOccurrences(of: "Index ", with: "")) ?? -1
                guard sequence.indices.contains(index) else { return current }
                current = sequence[index]
            } else {
                return current
            }
        }
        return current
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            String(describing: type).hasPrefix("Array") ? "a list" : "a mapping"
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.joined(separator: ", ")
        default:
            return "\(error)"
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): mark.line
        default: nil
        }
    }

    private static func describeReadError(_ error: any Error) -> String {
        if let error = error as? CocoaError, error.code == .fileReadNoSuchFile { return "no such file" }
        return error.localizedDescription
    }
}
