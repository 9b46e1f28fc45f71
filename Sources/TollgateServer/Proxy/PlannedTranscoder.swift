import NIOCore
import TollgateCore

/// The stream transcoder an `UpstreamPlan` picks, as one concrete type: the fallback chain
/// hands streams of any attempt to one relay, so the choice is a value, not a generic.
/// Exactly one of the four is set. Optionals rather than an enum with payloads: an enum's
/// payload is copied out to be mutated, which would copy the parser's buffer on every chunk.
struct PlannedTranscoder: ResponseStreamTranscoder {
    private var openAIPassthrough: OpenAIStreamPassthrough?
    private var anthropicPassthrough: AnthropicStreamPassthrough?
    private var anthropicToOpenAI: AnthropicToOpenAIStream?
    private var openAIToAnthropic: OpenAIToAnthropicStream?

    init(_ plan: UpstreamPlan, provider: String) {
        switch plan.answer {
        case .openAIPassthrough(let clientWantsUsage): self.openAIPassthrough = OpenAIStreamPassthrough(clientWantsUsage: clientWantsUsage)
        case .anthropicPassthrough: self.anthropicPassthrough = AnthropicStreamPassthrough()
        case .anthropicToOpenAI(let includeUsage, let jsonResponseTool):
            self.anthropicToOpenAI = AnthropicToOpenAIStream(
                model: plan.reportedModel, includeUsage: includeUsage, jsonResponseTool: jsonResponseTool, provider: provider
            )
        case .openAIToAnthropic: self.openAIToAnthropic = OpenAIToAnthropicStream(model: plan.reportedModel, provider: provider)
        }
    }

    mutating func consume(_ input: inout ByteBuffer, into output: inout ByteBuffer) throws(GatewayError) {
        if self.openAIPassthrough != nil { try self.openAIPassthrough!.consume(&input, into: &output) }
        else if self.anthropicPassthrough != nil { try self.anthropicPassthrough!.consume(&input, into: &output) }
        else if self.anthropicToOpenAI != nil { try self.anthropicToOpenAI!.consume(&input, into: &output) }
        else { try self.openAIToAnthropic!.consume(&input, into: &output) }
    }

    mutating func finish(into output: inout ByteBuffer) throws(GatewayError) {
        if self.openAIPassthrough != nil { try self.openAIPassthrough!.finish(into: &output) }
        else if self.anthropicPassthrough != nil { try self.anthropicPassthrough!.finish(into: &output) }
        else if self.anthropicToOpenAI != nil { try self.anthropicToOpenAI!.finish(into: &output) }
        else { try self.openAIToAnthropic!.finish(into: &output) }
    }

    mutating func fail(_ error: GatewayError, into output: inout ByteBuffer) {
        if self.openAIPassthrough != nil { self.openAIPassthrough!.fail(error, into: &output) }
        else if self.anthropicPassthrough != nil { self.anthropicPassthrough!.fail(error, into: &output) }
        else if self.anthropicToOpenAI != nil { self.anthropicToOpenAI!.fail(error, into: &output) }
        else { self.openAIToAnthropic!.fail(error, into: &output) }
    }

    /// The format of what this transcoder writes: the client's.
    var clientFormat: CachedAnswer.Format {
        self.openAIPassthrough != nil || self.anthropicToOpenAI != nil ? .openAI : .anthropic
    }

    var providerEvents: Int {
        self.openAIPassthrough?.providerEvents ?? self.anthropicPassthrough?.providerEvents ?? self.anthropicToOpenAI?.providerEvents
            ?? self.openAIToAnthropic?.providerEvents ?? 0
    }

    var usage: TokenUsage? {
        self.openAIPassthrough?.usage ?? self.anthropicPassthrough?.usage ?? self.anthropicToOpenAI?.usage ?? self.openAIToAnthropic?.usage
    }
}
