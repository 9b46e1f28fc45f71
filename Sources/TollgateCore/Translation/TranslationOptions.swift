/// How a request is translated from one wire format to the other.
public struct TranslationOptions: Sendable, Hashable {
    /// Drop parameters the target format has no equivalent for (and list them in
    /// `TranslatedRequest.dropped`) instead of refusing the request with a 400 naming them.
    public var dropUnsupported: Bool
    /// Anthropic requires `max_tokens`; this is sent when an OpenAI request has neither
    /// `max_tokens` nor `max_completion_tokens`.
    public var defaultMaxTokens: Int
    /// Which OpenAI field carries Anthropic's `max_tokens`. `max_completion_tokens` is the
    /// current one (reasoning models reject `max_tokens`); older OpenAI-compatible servers and
    /// Azure API versions only know `max_tokens`.
    public var openAIMaxTokensField: MaxTokensField
    /// Names the target provider in error messages ("… is not supported when this model is
    /// served by <provider>").
    public var providerName: String?

    public enum MaxTokensField: String, Sendable, Hashable {
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
    }

    public init(
        dropUnsupported: Bool = false,
        defaultMaxTokens: Int = 4096,
        openAIMaxTokensField: MaxTokensField = .maxCompletionTokens,
        providerName: String? = nil
    ) {
        self.dropUnsupported = dropUnsupported
        self.defaultMaxTokens = defaultMaxTokens
        self.openAIMaxTokensField = openAIMaxTokensField
        self.providerName = providerName
    }
}

/// A translated request and what the translation had to leave out or change, for the
/// gateway's logs (nothing is dropped silently).
public struct TranslatedRequest<Request: Sendable>: Sendable {
    public var request: Request
    /// Parameters removed: unsupported ones when `dropUnsupported` is on, and hints with no
    /// effect on the answer's content (`cache_control`, image `detail`...) always.
    public var dropped: [String]
    /// Values changed to fit the target, each with the reason (a clamped temperature...).
    public var adjusted: [String]
    /// Set when an OpenAI `response_format` of type `json_schema` became a forced Anthropic
    /// tool: the tool's name. Pass it to the response and stream translators, which turn
    /// that tool's input back into the message content the client expects.
    public var jsonResponseTool: String?
}

/// Collects what a translation drops or changes, and applies the drop-or-refuse rule.
struct TranslationLog {
    let options: TranslationOptions
    let targetName: String
    var dropped: [String] = []
    var adjusted: [String] = []

    init(options: TranslationOptions, targetName: String) {
        self.options = options
        self.targetName = options.providerName ?? targetName
    }

    /// A parameter the target cannot express: refused, or dropped when the options say so.
    mutating func unsupported(_ param: String, _ detail: String? = nil) throws(GatewayError) {
        guard self.options.dropUnsupported else {
            throw .unsupportedParameter(param, provider: self.targetName, detail: detail)
        }
        self.dropped.append(param)
    }

    /// A hint that does not change what the model answers: always dropped, always listed.
    mutating func hint(_ param: String) {
        self.dropped.append(param)
    }

    mutating func adjust(_ note: String) {
        self.adjusted.append(note)
    }

    func finish<Request>(_ request: Request, jsonResponseTool: String? = nil) -> TranslatedRequest<Request> {
        TranslatedRequest(request: request, dropped: self.dropped, adjusted: self.adjusted, jsonResponseTool: jsonResponseTool)
    }
}

extension JSONValue {
    /// True for values that ask for nothing: null, false, 0, "", [] and {}. A parameter set
    /// to one of these is the same as absent, so it is accepted even where unsupported.
    var isNoOp: Bool {
        switch self {
        case .null: true
        case .bool(let flag): !flag
        case .int(let number): number == 0
        case .double(let number): number == 0
        case .string(let text): text.isEmpty
        case .array(let values): values.isEmpty
        case .object(let object): object.isEmpty
        }
    }
}
