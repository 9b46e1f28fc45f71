/// Reads the members of a parsed request body, failing with the message OpenAI gives for a
/// wrong type and naming the parameter the way OpenAI does (`messages[0].content`). A
/// member that is absent or `null` is nil; `required` variants refuse `null`.
enum RequestMember {
    static func string(_ value: JSONValue, at param: String) throws(RequestValidationError) -> String? {
        switch value {
        case .null: return nil
        case .string(let text): return text
        default: throw .wrongType(param, expected: "a string")
        }
    }

    static func requiredString(_ value: JSONValue, at param: String) throws(RequestValidationError) -> String {
        guard let text = try string(value, at: param) else { throw .null(param, expected: "a string") }
        return text
    }

    /// Integral numbers written with a fraction or exponent (`10.0`, `1e3`) count as integers.
    static func int(_ value: JSONValue, at param: String) throws(RequestValidationError) -> Int? {
        switch value {
        case .null: return nil
        case .int(let number): return Int(number)
        case .double(let number) where number.rounded() == number && abs(number) < 0x1p63: return Int(number)
        default: throw .wrongType(param, expected: "an integer")
        }
    }

    static func double(_ value: JSONValue, at param: String) throws(RequestValidationError) -> Double? {
        switch value {
        case .null: return nil
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: throw .wrongType(param, expected: "a number")
        }
    }

    static func bool(_ value: JSONValue, at param: String) throws(RequestValidationError) -> Bool? {
        switch value {
        case .null: return nil
        case .bool(let flag): return flag
        default: throw .wrongType(param, expected: "a boolean")
        }
    }

    static func object(_ value: JSONValue, at param: String) throws(RequestValidationError) -> JSONObject? {
        switch value {
        case .null: return nil
        case .object(let object): return object
        default: throw .wrongType(param, expected: "an object")
        }
    }

    static func array(_ value: JSONValue, at param: String) throws(RequestValidationError) -> [JSONValue]? {
        switch value {
        case .null: return nil
        case .array(let array): return array
        default: throw .wrongType(param, expected: "an array")
        }
    }

    static func requiredArray(_ value: JSONValue, at param: String) throws(RequestValidationError) -> [JSONValue] {
        guard let array = try array(value, at: param) else { throw .null(param, expected: "an array") }
        return array
    }

    /// `parent.key`, or `key` at the top level.
    static func path(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : parent + "." + key
    }
}

extension RequestValidationError {
    static func wrongType(_ param: String, expected: String) -> Self {
        .init(message: "Invalid type for '\(param)': expected \(expected).", param: param)
    }

    static func null(_ param: String, expected: String) -> Self {
        .init(message: "Invalid type for '\(param)': expected \(expected), but got null instead.", param: param)
    }

    /// A body that parsed but is not an object, or is not JSON at all.
    static let notAnObject = Self(message: "The request body must be a JSON object.", param: nil)

    public static func notJSON(_ error: JSONSyntaxError) -> Self {
        if let key = error.duplicateKey {
            return .init(message: "The JSON body has the key '\(key)' twice in one object; send each key once.", param: key)
        }
        return .init(
            message: "We could not parse the JSON body of your request (\(error)). The body must be valid JSON encoded as UTF-8.",
            param: nil
        )
    }
}
