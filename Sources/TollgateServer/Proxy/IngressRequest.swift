import HTTPTypes
import NIOCore
import TollgateCore

/// A client's chat request as the proxy pipeline sees it, whichever format it arrived in.
struct IngressRequest: Sendable {
    enum Payload: Sendable {
        case openAI(ChatCompletionRequest)
        case anthropic(AnthropicMessagesRequest)
    }

    var payload: Payload
    /// The body as received: it goes upstream byte for byte when nothing needs changing.
    var body: ByteBuffer
    /// The request in Chat Completions terms: what routing rules and token estimates read.
    var routingView: ChatCompletionRequest
    /// Who the client says the end user is: the request's own field (`user`,
    /// `metadata.user_id`), then `X-Tollgate-User`. `ClientIdentifier.endUser` decides.
    var userClaims: [(param: String, value: String?)]
    /// The client's `anthropic-beta` header, passed on to Anthropic providers (from either
    /// SDK: the OpenAI one can send it as an extra header). Client credentials never are.
    var anthropicBeta: String?

    var format: IngressFormat {
        switch self.payload {
        case .openAI: .openAI
        case .anthropic: .anthropic
        }
    }

    var model: String { self.routingView.model }

    var isStreaming: Bool {
        switch self.payload {
        case .openAI(let chat): chat.isStreaming
        case .anthropic(let message): message.isStreaming
        }
    }

    /// An OpenAI Chat Completions request.
    init(openAI chat: ChatCompletionRequest, body: ByteBuffer, headers: HTTPFields) {
        self.payload = .openAI(chat)
        self.body = body
        self.routingView = chat
        self.userClaims = [("user", chat.user), ("X-Tollgate-User", headers[.tollgateUser])]
        self.anthropicBeta = headers[.anthropicBeta]
    }

    /// An Anthropic Messages request. Routing reads its Chat Completions translation, made
    /// leniently (parameters OpenAI lacks are dropped): which provider answers is not known yet.
    init(anthropic message: AnthropicMessagesRequest, body: ByteBuffer, headers: HTTPFields) {
        self.payload = .anthropic(message)
        self.body = body
        var view: ChatCompletionRequest
        if let translated = try? message.chatCompletionRequest(options: TranslationOptions(dropUnsupported: true)) {
            view = translated.request
        } else {
            // Content the translation cannot express still routes, on its text alone.
            let text = message.messages.map(\.content.text).joined(separator: "\n")
            view = ChatCompletionRequest(model: message.model, messages: [ChatMessage(role: .user, content: .text(text))])
            view.maxTokens = message.maxTokens
        }
        self.routingView = view
        self.userClaims = [("metadata.user_id", message.userID), ("X-Tollgate-User", headers[.tollgateUser])]
        self.anthropicBeta = headers[.anthropicBeta]
    }
}

extension HTTPField.Name {
    static let anthropicBeta = Self("anthropic-beta")!
}
