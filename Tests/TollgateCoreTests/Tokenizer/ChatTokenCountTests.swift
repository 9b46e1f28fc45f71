import Foundation
import Testing
import TollgateCore

@Suite("Chat request token counts")
struct ChatTokenCountTests {
    @Test("requests count as the reference script's cookbook count")
    func matchesReference() throws {
        let tokenizers = try TokenizerTestSupport.tokenizers()
        let chats = try TokenizerTestSupport.fixture.get().chats
        #expect(chats.count >= 3)
        for chat in chats {
            let counter = tokenizers.counter(forModel: chat.request.model)
            #expect(counter.encoding.rawValue == chat.encoding)
            #expect(counter.count(chat.request) == chat.tokens, "\(chat.request.model)")
        }
    }

    @Test("the cookbook's framing: 3 per message, the role, the text, 3 to prime the reply")
    func framing() throws {
        let counter = try TokenizerTestSupport.tokenizers().o200kBase
        let request = ChatCompletionRequest(model: "gpt-4o", messages: [ChatMessage(role: .user, content: .text("hello world"))])
        #expect(counter.count(request) == 3 + counter.count("user") + counter.count("hello world") + 3)
        var named = request
        named.messages[0].name = "bob"
        #expect(counter.count(named) == counter.count(request) + 1 + counter.count("bob"))
    }

    @Test("the prompt-token estimate uses the tokenizer when loaded, bytes/4 otherwise")
    func estimator() throws {
        let tokenizers = try TokenizerTestSupport.tokenizers()
        let text = String(repeating: "1234567890 ", count: 40)
        let request = ChatCompletionRequest(model: "gpt-4o", messages: [ChatMessage(role: .user, content: .text(text))])
        #expect(PromptTokenEstimator.estimate(request, tokenizers: tokenizers) == tokenizers.o200kBase.count(request))
        #expect(PromptTokenEstimator.estimate(request, tokenizers: nil) == PromptTokenEstimator.estimate(request))
        let features = RequestFeatures(
            request: request, key: nil, endUser: nil, timeZone: TimeZone(identifier: "UTC")!, tokenizers: tokenizers
        )
        #expect(features.promptTokens == tokenizers.o200kBase.count(request))
    }
}
