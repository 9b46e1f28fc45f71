import Logging
import NIOCore
import TollgateCore

/// How one routed chat request travels to its provider and back, fixed by the client's format
/// and the provider's kind: the endpoint, the body to send, and how the answer (whole or
/// streamed) becomes the client's format again.
///
/// | client \ provider | OpenAI, Azure OpenAI          | Anthropic                    |
/// | ----------------- | ----------------------------- | ---------------------------- |
/// | OpenAI            | as is (usage chunk requested) | translated both ways         |
/// | Anthropic         | translated both ways          | as is                        |
///
/// A client's `anthropic-beta` header goes to Anthropic providers from either format.
///
/// Same-format bodies go upstream byte for byte unless the model (routing or a rename) or the
/// output cap changes, or a stream needs its usage chunk requested.
struct UpstreamPlan: Sendable {
    /// How the provider's answer reaches the client.
    enum Answer: Sendable {
        case openAIPassthrough(clientWantsUsage: Bool)
        case anthropicPassthrough
        case anthropicToOpenAI(includeUsage: Bool, jsonResponseTool: String?)
        case openAIToAnthropic
    }

    var endpoint: ProviderEndpoint
    var body: ByteBuffer
    var answer: Answer
    /// The output cap the provider will honour: what admission reserves for.
    var maxOutputTokens: Int?
    /// Client headers forwarded to the provider (`anthropic-beta` to Anthropic).
    var extraHeaders: [(name: String, value: String)] = []
    /// The model name translated answers report: the provider's name for it, except that an
    /// Azure deployment name (an internal detail) is reported as the model the client knows.
    var reportedModel: String

    /// - Parameters:
    ///   - caps: the route's caps, applied to the output limit.
    ///   - translation: how to translate when the formats differ.
    static func make(
        for ingress: IngressRequest, resolved: ResolvedModel, provider: Provider, caps: RouteCaps,
        translation: TranslationConfig, logger: Logger
    ) throws(GatewayError) -> UpstreamPlan {
        let model = resolved.upstreamModel
        let reportedModel = provider.config.kind == .azureOpenAI ? resolved.model : model
        switch ingress.payload {
        case .openAI(var chat):
            // Changes that only add a member the client did not send are spliced into the
            // original bytes; anything else re-encodes the request.
            var reencode = false
            var added: [(name: String, json: String)] = []
            if chat.model != model {
                chat.model = model
                reencode = true
            }
            if let capped = caps.outputTokenLimit(requested: chat.outputTokenLimit), capped != chat.outputTokenLimit {
                if chat.outputTokenLimit == nil { added.append(("max_completion_tokens", String(capped))) } else { reencode = true }
                if chat.maxCompletionTokens != nil || chat.maxTokens == nil {
                    chat.maxCompletionTokens = capped
                } else {
                    chat.maxTokens = capped
                }
            }
            guard provider.config.speaksOpenAI else {
                let translated = try chat.anthropicRequest(options: Self.options(translation, provider))
                Self.log(translated, logger: logger)
                return UpstreamPlan(
                    endpoint: .messages, body: try RequestBody.encode(translated.request),
                    answer: .anthropicToOpenAI(includeUsage: chat.includesStreamUsage, jsonResponseTool: translated.jsonResponseTool),
                    maxOutputTokens: translated.request.maxTokens, extraHeaders: Self.anthropicHeaders(ingress),
                    reportedModel: reportedModel
                )
            }
            // A stream is priced from its usage chunk: ask for it, and hide it again from a
            // client that did not ask.
            var clientWantsUsage = false
            if chat.isStreaming {
                let hadOptions = chat.streamOptions != nil
                clientWantsUsage = chat.requestStreamUsage()
                if !clientWantsUsage {
                    if hadOptions { reencode = true } else { added.append(("stream_options", #"{"include_usage":true}"#)) }
                }
            }
            var body = ingress.body
            if reencode {
                body = try RequestBody.encode(chat)
            } else if !added.isEmpty {
                if let spliced = RequestBody.inserting(added, into: ingress.body) {
                    body = spliced
                } else {
                    body = try RequestBody.encode(chat)
                }
            }
            return UpstreamPlan(
                endpoint: .chatCompletions, body: body,
                answer: .openAIPassthrough(clientWantsUsage: clientWantsUsage), maxOutputTokens: chat.outputTokenLimit,
                reportedModel: reportedModel
            )

        case .anthropic(var message):
            var changed = false
            if message.model != model {
                message.model = model
                changed = true
            }
            if let capped = caps.outputTokenLimit(requested: message.maxTokens), capped != message.maxTokens {
                message.maxTokens = capped
                changed = true
            }
            guard provider.config.speaksOpenAI else {
                return UpstreamPlan(
                    endpoint: .messages, body: changed ? try RequestBody.encode(message) : ingress.body,
                    answer: .anthropicPassthrough, maxOutputTokens: message.maxTokens,
                    extraHeaders: Self.anthropicHeaders(ingress), reportedModel: reportedModel
                )
            }
            let translated = try message.chatCompletionRequest(options: Self.options(translation, provider))
            Self.log(translated, logger: logger)
            return UpstreamPlan(
                endpoint: .chatCompletions, body: try RequestBody.encode(translated.request), answer: .openAIToAnthropic,
                maxOutputTokens: translated.request.outputTokenLimit, reportedModel: reportedModel
            )
        }
    }

    private static func anthropicHeaders(_ ingress: IngressRequest) -> [(name: String, value: String)] {
        ingress.anthropicBeta.map { [("anthropic-beta", $0)] } ?? []
    }

    private static func options(_ translation: TranslationConfig, _ provider: Provider) -> TranslationOptions {
        let label = switch provider.config.kind {
        case .openai: "the OpenAI-compatible provider '\(provider.name)'"
        case .anthropic: "the Anthropic provider '\(provider.name)'"
        case .azureOpenAI: "the Azure OpenAI provider '\(provider.name)'"
        }
        return translation.options(for: label)
    }

    /// Nothing is dropped or changed silently: what the translation did goes to the log.
    private static func log<Request>(_ translated: TranslatedRequest<Request>, logger: Logger) {
        guard !translated.dropped.isEmpty || !translated.adjusted.isEmpty else { return }
        var metadata: Logger.Metadata = [:]
        if !translated.dropped.isEmpty { metadata["dropped"] = .string(translated.dropped.joined(separator: ", ")) }
        if !translated.adjusted.isEmpty { metadata["adjusted"] = .string(translated.adjusted.joined(separator: "; ")) }
        logger.info("request translated", metadata: metadata)
    }

    /// The provider's whole (non-streamed) answer in the client's format, with its usage.
    func clientAnswer(_ body: ByteBuffer) throws(GatewayError) -> TranslatedResponse {
        switch self.answer {
        case .openAIPassthrough: TranslatedResponse(body: body, usage: TokenUsage.fromOpenAIBody(body))
        case .anthropicPassthrough: TranslatedResponse(body: body, usage: TokenUsage.fromAnthropicResponse(body))
        case .anthropicToOpenAI(_, let jsonResponseTool):
            try ResponseTranslation.chatCompletion(fromAnthropic: body, model: self.reportedModel, jsonResponseTool: jsonResponseTool)
        case .openAIToAnthropic:
            try ResponseTranslation.anthropicMessage(fromChatCompletion: body, model: self.reportedModel)
        }
    }

    /// Whether the answer goes back as the provider sent it.
    var isPassthrough: Bool {
        switch self.answer {
        case .openAIPassthrough, .anthropicPassthrough: true
        case .anthropicToOpenAI, .openAIToAnthropic: false
        }
    }
}
