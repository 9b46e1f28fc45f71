// tokenizer-bench: BPE token counting speed, rank-file load time, and how far the bytes/4
// estimate is from the real count. Release build, rank files from scripts/setup-tokenizer.sh:
//   swift build -c release --product tokenizer-bench
//   .build/release/tokenizer-bench [--dir models/tokenizers] [--texts FILE.json] [--iterations N]
// --texts: a JSON array of strings, or of objects whose string fields are the texts (for
// example a question-pair data set); prints the bytes/4 error over them per encoding.
// --only TEXT: only the throughput rows whose name contains TEXT.
// Times are this thread's CPU time (steadier than wall time on a shared machine), best of
// 5 rounds.
import Foundation
import TollgateCore

#if canImport(Glibc)
import Glibc
#endif

var directory = Tokenizers.defaultDirectory
var textsPath: String?
var iterations = 2000
var only: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--dir": directory = arguments.popFirst() ?? directory
    case "--texts": textsPath = arguments.popFirst()
    case "--iterations": iterations = arguments.popFirst().flatMap(Int.init) ?? iterations
    case "--only": only = arguments.popFirst()
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
        exit(2)
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// This thread's CPU seconds for `body`, best of `rounds`.
func cpuSeconds(rounds: Int = 5, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<rounds {
        var start = timespec()
        var end = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        body()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        best = min(best, Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9)
    }
    return best
}

// MARK: - Load time

var loaded: Tokenizers?
for round in 1...3 {
    var perEncoding: [String] = []
    for encoding in TokenEncoding.allCases {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(encoding.fileName).path
        var counter: TokenCounter?
        let time = try seconds { counter = try TokenCounter(encoding: encoding, rankFile: path) }
        perEncoding.append("\(encoding.rawValue) \(String(format: "%.0f", time * 1000)) ms (\(counter!.vocabularySize) tokens)")
    }
    let both = try seconds { loaded = try Tokenizers(directory: directory) }
    print("load round \(round): \(perEncoding.joined(separator: ", ")); Tokenizers (both): \(String(format: "%.0f", both * 1000)) ms")
}
let tokenizers = loaded!
let firstCount = seconds { _ = tokenizers.o200kBase.count("héllo, 世界") }
print(String(format: "first count in the process (builds the 64K-entry scalar class table): %.1f ms", firstCount * 1000))

// MARK: - Throughput

let paragraph = """
    The gateway reserves budget before it calls a provider, so it needs the prompt's token \
    count up front. Counting with the real tokenizer keeps reservations honest: four bytes \
    per token is close for plain English, but it's far off for code, numbers and CJK text. \
    Rate limits in tokens per minute rely on the same count, 42 times a second or more.\n
    """
let code = """
    func route(_ request: ChatCompletionRequest) throws -> RouteDecision {
        let features = RequestFeatures(request: request, key: nil, endUser: nil, timeZone: .gmt)
        guard let rule = rules.first(where: { $0.matches(features) }) else { return .default }
        return RouteDecision(route: rule.name, model: rule.target ?? request.model)
    }\n
    """
let cjk = "网关在调用模型之前需要知道提示的令牌数量，以便预留预算并执行每分钟令牌限制。"

func prompt(_ unit: String, bytes: Int) -> String {
    var text = ""
    while text.utf8.count < bytes { text += unit }
    return String(decoding: text.utf8.prefix(bytes), as: UTF8.self)
}

let prompts: [(String, String)] = [
    ("English 1 KB", prompt(paragraph, bytes: 1024)),
    ("English 10 KB", prompt(paragraph, bytes: 10 * 1024)),
    ("code 1 KB", prompt(code, bytes: 1024)),
    ("code 10 KB", prompt(code, bytes: 10 * 1024)),
    ("mixed EN/code/CJK 10 KB", prompt(paragraph + code + cjk, bytes: 10 * 1024)),
    ("CJK 10 KB", prompt(cjk, bytes: 10 * 1024)),
]

print("\nthroughput (\(iterations) iterations each, best of 5; CPU µs per call, MB/s of UTF-8):")
for encoding in TokenEncoding.allCases {
    let counter = tokenizers.counter(for: encoding)
    for (name, text) in prompts where only.map({ name.contains($0) }) ?? true {
        let n = name.contains("10 KB") ? max(1, iterations / 10) : iterations
        var sink = 0
        for _ in 0..<max(1, n / 10) { sink &+= counter.count(text) }  // warm-up
        let countTime = cpuSeconds { for _ in 0..<n { sink &+= counter.count(text) } } / Double(n)
        let encodeTime = cpuSeconds { for _ in 0..<n { sink &+= counter.encode(text).count } } / Double(n)
        let tokens = counter.count(text)
        let bytes = Double(text.utf8.count)
        print(String(
            format: "  %@ %-24@ %6d tokens  count %8.1f µs (%5.1f MB/s)  encode %8.1f µs  bytes/4 = %d%@",
            encoding.rawValue as NSString, name as NSString, tokens, countTime * 1e6, bytes / countTime / 1e6, encodeTime * 1e6,
            (text.utf8.count + 3) / 4, (sink == 42 ? "!" : "") as NSString
        ))
    }
}

// MARK: - bytes/4 against the real count

guard let textsPath else { exit(0) }
let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: textsPath)))
var texts: [String] = []
for element in (json as? [Any]) ?? [] {
    if let text = element as? String { texts.append(text) }
    if let object = element as? [String: Any] {
        for key in object.keys.sorted() { if let text = object[key] as? String { texts.append(text) } }
    }
}
texts = texts.filter { !$0.isEmpty }
print("\nbytes/4 against the real count over \(texts.count) texts from \(textsPath):")
for encoding in TokenEncoding.allCases {
    let counter = tokenizers.counter(for: encoding)
    var relativeErrors: [Double] = []
    var estimatedTotal = 0
    var realTotal = 0
    var chatEstimated = 0
    var chatReal = 0
    let time = seconds {
        for text in texts {
            let real = counter.count(text)
            let estimate = (text.utf8.count + 3) / 4
            realTotal += real
            estimatedTotal += estimate
            relativeErrors.append(Double(estimate - real) / Double(max(real, 1)))
        }
    }
    // As one-message chat requests: the estimator's framing against the cookbook count.
    for text in texts.prefix(20_000) {
        let request = ChatCompletionRequest(model: "gpt-4o", messages: [ChatMessage(role: .user, content: .text(text))])
        chatEstimated += PromptTokenEstimator.estimate(request)
        chatReal += counter.count(request)
    }
    let absolute = relativeErrors.map(abs).sorted()
    let mean = relativeErrors.reduce(0, +) / Double(relativeErrors.count)
    let meanAbsolute = absolute.reduce(0, +) / Double(absolute.count)
    func percentile(_ p: Double) -> Double { absolute[min(absolute.count - 1, Int(Double(absolute.count) * p))] }
    let underestimated = Double(relativeErrors.filter { $0 < 0 }.count) / Double(relativeErrors.count)
    print(String(
        format: "  %@: total %d real vs %d estimated (%+.1f%%); per text mean %+.1f%%, mean |error| %.1f%%, "
            + "median |error| %.1f%%, p90 %.1f%%, p99 %.1f%%, underestimates %.0f%% of texts; "
            + "as 1-message requests %+.1f%%; counted at %.1f MB/s",
        encoding.rawValue as NSString, realTotal, estimatedTotal, 100 * Double(estimatedTotal - realTotal) / Double(realTotal),
        100 * mean, 100 * meanAbsolute, 100 * percentile(0.5), 100 * percentile(0.9), 100 * percentile(0.99),
        100 * underestimated, 100 * Double(chatEstimated - chatReal) / Double(chatReal),
        Double(texts.reduce(0) { $0 + $1.utf8.count }) / time / 1e6
    ))
}
