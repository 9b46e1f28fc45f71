import Foundation
import Testing
@testable import TollgateCore

@Suite struct ShippedRoutesTests {
    let rules: CompiledRoutingRules
    let shippedModels = ["gpt-5.1", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini"]

    init() throws {
        var rules = try CompiledRoutingRules.load(directory: repositoryRoot.appendingPathComponent("routes").path, environment: [:])
        rules.templates = try PromptTemplates.load(directory: repositoryRoot.appendingPathComponent("prompts").path)
        self.rules = rules
    }

    func features(model: String, messages: [ChatMessage]) -> RequestFeatures {
        RequestFeatures(
            request: ChatCompletionRequest(model: model, messages: messages), key: nil, endUser: nil,
            now: Date(timeIntervalSince1970: 0), timeZone: TimeZone(identifier: "UTC")!
        )
    }

    static let codeAnalysisPrompt: String = {
        let function = """
            func merge(_ a: [Int], _ b: [Int]) -> [Int] {
                var result: [Int] = []
                var i = 0, j = 0
                while i < a.count && j < b.count {
                    if a[i] <= b[j] { result.append(a[i]); i += 1 } else { result.append(b[j]); j += 1 }
                }
                return result + a[i...] + b[j...]
            }

            """
        return "Analyze this module for performance problems and refactor it step by step:\n```swift\n"
            + String(repeating: function, count: 20) + "```\nExplain the complexity of each function."
    }()

    @Test func aliasesAndDefault() {
        #expect(rules.aliases == ["auto", "cheap", "smart"])
        #expect(rules.defaultRoute.target == .model("gpt-5-mini"))
        #expect(rules.tierNames == ["simple", "standard", "complex"])
    }

    @Test func everyModelIsOneTheShippedConfigMaps() {
        for route in rules.routes + [rules.defaultRoute] {
            if let model = route.target.model { #expect(shippedModels.contains(model), "\(route.name): \(model)") }
            for model in route.fallbacks.models { #expect(shippedModels.contains(model), "\(route.name): \(model)") }
            #expect(route.fallbacks.template == "busy", "\(route.name)")
        }
    }

    @Test func trivialAndCodeAnalysisGetDifferentModels() {
        let trivial = rules.evaluate(features(model: "auto", messages: [.init(role: .user, content: .text("What is the capital of France?"))]))
        #expect(trivial.route == "auto-simple")
        #expect(trivial.model == "gpt-5-mini")
        let code = rules.evaluate(features(model: "auto", messages: [
            .init(role: .system, content: .text("You are a senior engineer.")),
            .init(role: .user, content: .text(Self.codeAnalysisPrompt)),
        ]))
        #expect(code.route == "auto-complex")
        #expect(code.model == "gpt-5")
        #expect(code.fallbacks == FallbackChain(models: ["gpt-4.1", "gpt-5-mini"], template: "busy"))
    }

    @Test func concreteModelsPassThrough() {
        for model in ["gpt-4o", "gpt-5.1", "o3"] {
            for prompt in ["hi", Self.codeAnalysisPrompt] {
                let decision = rules.evaluate(features(model: model, messages: [.init(role: .user, content: .text(prompt))]))
                #expect(decision.model == model && !decision.modelChanged && decision.route == "default")
            }
        }
    }

    @Test func otherAliases() {
        let message = [ChatMessage(role: .user, content: .text("hello"))]
        #expect(rules.evaluate(features(model: "smart", messages: message)).model == "gpt-5")
        #expect(rules.evaluate(features(model: "cheap", messages: message)).model == "gpt-5-nano")
    }

    @Test func explainText() throws {
        let text = rules.explain(features(model: "auto", messages: [.init(role: .user, content: .text(Self.codeAnalysisPrompt))])).description
        #expect(text.contains("=> auto-complex"))
        #expect(text.contains("fallbacks: gpt-4.1 -> gpt-5-mini -> template busy"))
        #expect(text.contains("keyword.reasoning    true"))
        // What a failure at each step does: the route's chain, step by step, then the template.
        let failures = try #require(text.components(separatedBy: "on failure:\n").last)
        #expect(failures.contains("  1. gpt-5\n     connect error, reset, idle timeout, 408, 429, 5xx, 529: retried 1x on the same deployment"))
        #expect(failures.contains("then step 2"))
        #expect(failures.contains("  2. gpt-4.1 (conversation trimmed to its context window when longer)"))
        #expect(failures.contains("  4. template busy: prompts/busy.mustache as an ordinary answer, cost 0"))
    }
}

extension ShippedRoutesTests {
    @Test func referencesResolveAgainstShippedConfig() throws {
        let config = try ConfigLoader.load(GatewayConfig.self, file: repositoryRoot.appendingPathComponent("tollgate.yaml").path, environment: [:])
        let registry = ProviderRegistry(config: config, environment: [:])
        try rules.checkReferences(isKnownModel: { registry.resolve(model: $0) != nil }, isKnownProvider: { config.providers[$0] != nil })
        #expect(throws: ConfigError.self) {
            try rules.checkReferences(isKnownModel: { $0 != "gpt-5" }, isKnownProvider: { _ in true })
        }
        // Every template a shipped route falls back to is shipped, and renders.
        var withoutTemplates = rules
        withoutTemplates.templates = PromptTemplates()
        #expect(throws: ConfigError.self) { try withoutTemplates.checkTemplates() }
        let busy = rules.templates.render("busy", context: TemplateContext(model: "auto", route: "auto-simple", requestID: "req-1", retryAfterSeconds: 20))
        #expect(busy?.contains("req-1") == true && busy?.contains("20 seconds") == true)
    }

    @Test func aBrokenTemplateIsALoadErrorWithItsLine() {
        #expect(throws: ConfigError(file: "prompts/bad.mustache", line: 2, reason: "invalid template: sectionCloseNameIncorrect")) {
            _ = try PromptTemplates.parse("Hello\n{{#a}}x{{/b}}", file: "prompts/bad.mustache")
        }
    }
}
