import NIOCore
import TollgateCore

/// Fits a request to the model a fallback attempt goes to (its limits from
/// `budgets/prices.yaml`): a conversation too long for the model's context window loses its
/// oldest turns, with a note where they were (`ConversationTrimmer`), and the output cap is
/// lowered to what the model can write in what is left of the window.
struct ContextFit {
    let limits: ModelLimits
    let trimmer: ConversationTrimmer
    /// The note for `n` dropped messages (`prompts/trimmed-context.mustache`).
    let note: (Int) -> String

    /// Room left for the answer when a conversation is trimmed and the client set no output
    /// limit: a quarter of the window, at most this.
    static let defaultAnswerRoom = 4096

    struct Fitted {
        var ingress: IngressRequest
        var caps: RouteCaps
        var promptTokens: Int
        /// Messages left out (0: the request fits as it is).
        var droppedMessages: Int
    }

    /// The request as the model can take it, or nil when even its last turn does not fit.
    func fit(_ ingress: IngressRequest, promptTokens: Int, caps: RouteCaps) throws(GatewayError) -> Fitted? {
        var fitted = Fitted(ingress: ingress, caps: caps, promptTokens: promptTokens, droppedMessages: 0)
        let requested = caps.outputTokenLimit(requested: ingress.routingView.outputTokenLimit)
        var outputLimit = self.limits.maxOutputTokens
        if let window = self.limits.contextWindow {
            let room = min(requested ?? self.limits.maxOutputTokens ?? Self.defaultAnswerRoom, self.limits.maxOutputTokens ?? .max, window / 4)
            let excess = promptTokens + room - window
            if excess > 0 {
                guard let trimmed = try self.trim(ingress, excess: excess) else { return nil }
                fitted.ingress = trimmed.ingress
                fitted.promptTokens = promptTokens - trimmed.trim.droppedTokens
                fitted.droppedMessages = trimmed.trim.dropped.count
            }
            outputLimit = min(outputLimit ?? .max, window - fitted.promptTokens)
        }
        // A client's own limit is lowered only past what the model allows; a trimmed request
        // always gets one, so the model cannot write past its window.
        if let outputLimit, requested.map({ $0 > outputLimit }) ?? (fitted.droppedMessages > 0) {
            fitted.caps.maxTokens = min(caps.maxTokens ?? .max, outputLimit)
        }
        return fitted
    }

    private func trim(_ ingress: IngressRequest, excess: Int) throws(GatewayError) -> (ingress: IngressRequest, trim: ConversationTrimmer.Trim)? {
        var ingress = ingress
        switch ingress.payload {
        case .openAI(let chat):
            guard let (trimmed, trim) = self.trimmer.trim(chat, excess: excess, note: self.note) else { return nil }
            ingress.payload = .openAI(trimmed)
            ingress.routingView = trimmed
            ingress.body = try RequestBody.encode(trimmed)
            return (ingress, trim)
        case .anthropic(let message):
            guard let (trimmed, trim) = self.trimmer.trim(message, excess: excess, note: self.note) else { return nil }
            ingress.payload = .anthropic(trimmed)
            ingress.body = try RequestBody.encode(trimmed)
            return (ingress, trim)
        }
    }
}
