// routing-bench: cost of routing one request with 50 rules, release build.
//   swift build -c release --product routing-bench && taskset -c 1 .build/release/routing-bench
// Prints ns per call for feature extraction and for evaluate() over a 50-rule set where the
// matching rule is the last one or the default, and NSRegularExpression vs Swift Regex.
import Foundation
import TollgateCore

let iterations = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1_000_000

// MARK: - A 50-rule set

/// 49 routes that do not match the sample request, each testing 2-4 features as ops write
/// them, then `last-match` (matches when `team` is `growth`) and the default.
func fiftyRules(promptRegexes: Bool, lastMatches: Bool) -> String {
    var yaml = """
        aliases: [auto, cheap, smart]
        keywords:
          reasoning: [prove, "step by step", analyze, debug, refactor, optimize, "root cause"]
          greeting: [hello, thanks, "thank you", "good morning"]
          legal: [contract, liability, gdpr, compliance]
        patterns:
          sql: '(?i)\\bselect\\b.+\\bfrom\\b'
          stack_trace: 'Traceback \\(most recent call last\\)'
        complexity:
          weights: { prompt_tokens_per_1k: 1.0, code_blocks: 1.5, has_tools: 1.0, keyword.reasoning: 2.0, messages_over_6: 0.25 }
          tiers: { simple: 0, standard: 1.5, complex: 3 }
        routes:

        """
    for i in 0..<49 {
        let condition: String
        switch i % 7 {
        case 0: condition = "{ all: [ { feature: team, eq: team-\(i) }, { feature: prompt_tokens, gt: \(100 * i) } ] }"
        case 1: condition = "{ any: [ { feature: tag.feature, eq: f\(i) }, { feature: key, in: [k\(i), k\(i + 1), k\(i + 2)] } ] }"
        case 2: condition = "{ all: [ { feature: model, eq: smart }, { feature: hour, gte: 22 } ] }"
        case 3: condition = "{ all: [ { feature: tier, eq: complex }, { feature: has_tools, eq: true }, { feature: user, eq: u\(i) } ] }"
        case 4: condition = promptRegexes && i < 10
            ? "{ all: [ { feature: pattern.sql, eq: true }, { feature: keyword.legal, eq: true } ] }"
            : "{ all: [ { feature: keyword.legal, eq: true }, { feature: messages, gt: 20 } ] }"
        case 5: condition = promptRegexes && i < 10
            ? "{ all: [ { feature: team, ne: growth }, { feature: pattern.stack_trace, eq: true } ] }"
            : "{ not: { feature: budget_used_pct, exists: false } }"
        default: condition = "{ all: [ { feature: weekday, in: [sat, sun] }, { feature: score, gt: 50 }, { feature: model, matches: '^o[0-9]' } ] }"
        }
        yaml += """
              - name: rule-\(i)
                priority: \(i % 3)
                when: \(condition)
                target: gpt-5
                fallbacks: [gpt-4.1, template: busy]

            """
    }
    yaml += """
          - name: last-match
            priority: -1
            when: { all: [ { feature: team, eq: \(lastMatches ? "growth" : "nobody") }, { feature: keyword.reasoning, eq: true } ] }
            target: gpt-5-mini
          - name: default
            default: true
            target: gpt-5-mini

        """
    return yaml
}

// MARK: - A sample request

let userText = """
    Can you analyze why this endpoint is slow? It loads the user's orders and then the items
    of each order in a loop, and the page takes two seconds with a hundred orders. I think it
    is the database but I am not sure; the logs show many small queries. What would you change
    first, and how would you measure that the change helped? Keep the answer short.
    """
let request = ChatCompletionRequest(model: "auto", messages: [
    ChatMessage(role: .system, content: .text("You are a helpful assistant for the web team. Answer concisely.")),
    ChatMessage(role: .user, content: .text("Hello!")),
    ChatMessage(role: .assistant, content: .text("Hello! How can I help?")),
    ChatMessage(role: .user, content: .text(userText)),
])
let key = GatewayKey(id: "key_1", name: "web-app", team: "growth", user: "svc-web")
let tags = try! RoutingTags.parse(headerValues: ["env=prod, feature=orders"])
let timeZone = TimeZone(identifier: "Europe/Berlin")!
let now = Date()

// MARK: - Timing

@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

func measure(_ label: String, iterations: Int, _ body: () -> Int) -> Double {
    var sink = 0
    for _ in 0..<min(iterations, 10_000) { sink &+= body() }  // warm up
    let clock = ContinuousClock()
    var best = Double.infinity
    for _ in 0..<3 {
        let start = clock.now
        for _ in 0..<iterations { sink &+= body() }
        let elapsed = clock.now - start
        let ns = (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / Double(iterations)
        best = min(best, ns)
    }
    blackHole(sink)
    print(label.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%10.1f ns", best))
    return best
}

print("routing-bench: \(iterations) iterations, best of 3 runs")
let features = RequestFeatures(request: request, key: key, endUser: "alice", tags: tags, now: now, timeZone: timeZone)
print("sample request: \(request.messages.count) messages, last user message \(userText.utf8.count) bytes, \(features.promptTokens) estimated tokens")

_ = measure("feature extraction (RequestFeatures.init)", iterations: iterations) {
    RequestFeatures(request: request, key: key, endUser: "alice", tags: tags, now: now, timeZone: timeZone).promptTokens
}
_ = measure("token estimate alone (PromptTokenEstimator.estimate)", iterations: iterations) {
    PromptTokenEstimator.estimate(request)
}

for (label, regexes, last) in [
    ("evaluate, 50 rules, last rule matches", false, true),
    ("evaluate, 50 rules, default answers", false, false),
    ("evaluate, 50 rules + 2 prompt regexes, last rule matches", true, true),
    ("evaluate, 50 rules + 2 prompt regexes, default answers", true, false),
] {
    let rules = try CompiledRoutingRules.compile(sources: [("fifty.yaml", fiftyRules(promptRegexes: regexes, lastMatches: last))], environment: [:])
    precondition(rules.routes.count == 50)
    let expected = last ? "last-match" : "default"
    precondition(rules.evaluate(features).route == expected, rules.explain(features).description)
    _ = measure(label, iterations: regexes ? iterations / 10 : iterations) { rules.evaluate(features).route.utf8.count }
    // What the ledger's features record adds: every text feature the rules read is
    // evaluated (not only those a condition reached) and the record is written as JSON.
    _ = measure("  + features record (evaluateRecording)", iterations: regexes ? iterations / 10 : iterations) {
        rules.evaluateRecording(features, budgetKnown: false).record.utf8.count
    }
}
let rules = try CompiledRoutingRules.compile(sources: [("fifty.yaml", fiftyRules(promptRegexes: false, lastMatches: true))], environment: [:])
_ = measure("extraction + evaluate, 50 rules, last rule matches", iterations: iterations) {
    let f = RequestFeatures(request: request, key: key, endUser: "alice", tags: tags, now: now, timeZone: timeZone)
    return rules.evaluate(f).route.utf8.count
}
_ = measure("explain, 50 rules (CLI only)", iterations: iterations / 100) { rules.explain(features).verdicts.count }

// MARK: - Regex engines on the sample prompt

let pattern = #"(?i)\bselect\b.+\bfrom\b"#
let ns = try NSRegularExpression(pattern: pattern)
let swiftRegex = try Regex(pattern)
for (name, text) in [("30-byte prompt", "What is the capital of France?"), ("\(userText.utf8.count)-byte prompt", userText)] {
    _ = measure("regex, NSRegularExpression, \(name)", iterations: iterations / 20) {
        ns.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count)) == nil ? 0 : 1
    }
    _ = measure("regex, Swift Regex, \(name)", iterations: iterations / 200) {
        text.contains(swiftRegex) ? 1 : 0
    }
}
