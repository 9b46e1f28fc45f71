import Testing
@testable import TollgateCore

@Suite struct LargePromptEstimateTests {
    @Test func hugePromptsAreCountedFromASampleAndErrHigh() throws {
        let tokenizers = try TokenizerTestSupport.tokenizers()
        let paragraph = "The quick brown fox jumps over the lazy dog while the gateway counts every token it reserves. "
        let text = String(repeating: paragraph, count: 3000)  // about 280 KB
        let request = ChatCompletionRequest(model: "gpt-4o", messages: [ChatMessage(role: .user, content: .text(text))])
        #expect(PromptTokenEstimator.textBytes(request) > PromptTokenEstimator.exactCountLimit)
        let exact = tokenizers.counter(forModel: "gpt-4o").count(request)
        let estimate = PromptTokenEstimator.estimate(request, tokenizers: tokenizers)
        #expect(estimate >= exact)
        #expect(Double(estimate) <= Double(exact) * 1.15)
    }
}
