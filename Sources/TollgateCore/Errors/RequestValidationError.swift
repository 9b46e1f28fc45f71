import Foundation

/// A client request body that is well-formed JSON but not a valid request: a missing field,
/// a wrong type, a value out of range. Carries a message written for the app developer.
public struct RequestValidationError: Error, Sendable, Equatable {
    public var message: String
    public var param: String?

    public init(message: String, param: String?) {
        self.message = message
        self.param = param
    }

    public static func missing(_ param: String) -> Self {
        .init(message: "Missing required parameter: '\(param)'.", param: param)
    }
}

/// Formats decoder coding paths the way OpenAI names parameters: `messages[0].content`.
public enum CodingPathFormatter {
    public static func format(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let index = key.intValue {
                result += "[\(index)]"
            } else if key.stringValue.hasPrefix("Index "), let index = Int(key.stringValue.dropFirst(6)) {
                result += "[\(index)]"
            } else {
                if !result.isEmpty { result += "." }
                result += key.stringValue
            }
        }
        return result
    }
}

extension RequestValidationError {
    /// Turns whatever decoding a request body threw into a message a developer can act on.
    public init(decoding error: any Error) {
        if let error = error as? RequestValidationError {
            self = error
            return
        }
        guard let error = error as? DecodingError else {
            self.init(message: "We could not parse the JSON body of your request. (\(error))", param: nil)
            return
        }
        switch error {
        case .typeMismatch(let type, let context):
            let path = CodingPathFormatter.format(context.codingPath)
            if path.isEmpty {
                self.init(message: "The request body must be a JSON object.", param: nil)
            } else {
                self.init(
                    message: "Invalid type for '\(path)': expected \(Self.describe(type)).",
                    param: path
                )
            }
        case .valueNotFound(let type, let context):
            let path = CodingPathFormatter.format(context.codingPath)
            self.init(message: "Invalid type for '\(path)': expected \(Self.describe(type)), but got null instead.", param: path)
        case .keyNotFound(let key, let context):
            self = .missing(CodingPathFormatter.format(context.codingPath + [key]))
        case .dataCorrupted(let context):
            let path = CodingPathFormatter.format(context.codingPath)
            if path.isEmpty {
                self.init(
                    message: "We could not parse the JSON body of your request. The body must be valid JSON encoded as UTF-8.",
                    param: nil
                )
            } else {
                self.init(message: "Invalid value for '\(path)': \(context.debugDescription)", param: path)
            }
        @unknown default:
            self.init(message: "We could not parse the JSON body of your request.", param: nil)
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "a boolean"
        case is MessageContent.Type: "a string or an array of content parts"
        case is AnthropicContent.Type: "a string or an array of content blocks"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
