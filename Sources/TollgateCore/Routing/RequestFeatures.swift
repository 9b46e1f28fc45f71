import Foundation

/// What the routing rules look at, computed once per request. Cheap: one pass over the
/// message texts for code fences; keyword and pattern matches are left to the rules, which
/// scan `lastUserMessage` and `systemPrompt` only when a rule asks.
public struct RequestFeatures: Sendable, Equatable {
    /// The model or alias the client sent.
    public var model: String
    /// The prompt's tokens: a BPE count when tokenizers are loaded, else
    /// `PromptTokenEstimator`'s byte-length estimate.
    public var promptTokens: Int
    public var messageCount: Int
    /// `max_completion_tokens` or `max_tokens`, when the client sent one.
    public var maxTokens: Int?
    public var hasTools: Bool
    public var hasImages: Bool
    public var hasResponseFormat: Bool
    /// Fenced code blocks (```) across all messages; an unclosed fence counts as one.
    public var codeBlocks: Int
    /// The text of the last `user` message.
    public var lastUserMessage: String
    /// The `system` and `developer` messages' text, joined by newlines.
    public var systemPrompt: String
    /// The gateway key's name and id, and its team.
    public var keyName: String?
    public var keyID: String?
    public var team: String?
    /// The end user: the request's `user` / `X-Tollgate-User`, else the key's user.
    public var user: String?
    public var tags: RoutingTags
    /// Share of the applicable budget already spent (0...100+); nil until cost controls exist.
    public var budgetUsedPercent: Double?
    /// Local time of day, 0...23.
    public var hour: Int
    /// Local day of the week, ISO numbering: 1 = Monday ... 7 = Sunday.
    public var weekday: Int
    /// Set when replaying a ledger record (`RecordedFeatures`): text features answer from it
    /// instead of scanning the (absent) texts.
    public var recordedText: [String: Bool]?

    public init(
        model: String,
        promptTokens: Int = 0,
        messageCount: Int = 1,
        maxTokens: Int? = nil,
        hasTools: Bool = false,
        hasImages: Bool = false,
        hasResponseFormat: Bool = false,
        codeBlocks: Int = 0,
        lastUserMessage: String = "",
        systemPrompt: String = "",
        keyName: String? = nil,
        keyID: String? = nil,
        team: String? = nil,
        user: String? = nil,
        tags: RoutingTags = RoutingTags(),
        budgetUsedPercent: Double? = nil,
        hour: Int = 12,
        weekday: Int = 3
    ) {
        self.model = model
        self.promptTokens = promptTokens
        self.messageCount = messageCount
        self.maxTokens = maxTokens
        self.hasTools = hasTools
        self.hasImages = hasImages
        self.hasResponseFormat = hasResponseFormat
        self.codeBlocks = codeBlocks
        self.lastUserMessage = lastUserMessage
        self.systemPrompt = systemPrompt
        self.keyName = keyName
        self.keyID = keyID
        self.team = team
        self.user = user
        self.tags = tags
        self.budgetUsedPercent = budgetUsedPercent
        self.hour = hour
        self.weekday = weekday
    }

    public var hasCode: Bool { self.codeBlocks > 0 }

    /// Computes the features of a Chat Completions request.
    /// - Parameters:
    ///   - endUser: the attributed end user (request `user` field or `X-Tollgate-User`).
    ///   - tags: the parsed `X-Tollgate-Tag` headers.
    ///   - now, timeZone: the clock, for `hour` and `weekday`; pass fixed values in tests.
    ///   - tokenizers: counts `prompt_tokens` exactly when given; nil falls back to the
    ///     byte-length estimate.
    public init(
        request: ChatCompletionRequest,
        key: GatewayKey?,
        endUser: String?,
        tags: RoutingTags = RoutingTags(),
        now: Date = Date(),
        timeZone: TimeZone,
        budgetUsedPercent: Double? = nil,
        tokenizers: Tokenizers? = nil
    ) {
        var fences = 0
        var hasImages = false
        var lastUser: String?
        var system: String?
        for message in request.messages {
            guard let content = message.content else { continue }
            let text: String
            switch content {
            case .text(let string): text = string
            case .parts:
                text = content.text
                if content.hasImage { hasImages = true }
            }
            fences += Self.countFences(in: text)
            switch message.role {
            case .user: lastUser = text
            case .system, .developer: system = system.map { $0 + "\n" + text } ?? text
            default: break
            }
        }
        let local = Int((now.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: now))).rounded(.down))
        let day = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        self.init(
            model: request.model,
            promptTokens: PromptTokenEstimator.estimate(request, tokenizers: tokenizers),
            messageCount: request.messages.count,
            maxTokens: request.outputTokenLimit,
            hasTools: !(request.tools?.isEmpty ?? true),
            hasImages: hasImages,
            hasResponseFormat: request.responseFormat != nil,
            codeBlocks: (fences + 1) / 2,
            lastUserMessage: lastUser ?? "",
            systemPrompt: system ?? "",
            keyName: key?.name,
            keyID: key?.id,
            team: key?.team,
            user: endUser ?? key?.user,
            tags: tags,
            budgetUsedPercent: budgetUsedPercent,
            hour: (local - day * 86_400) / 3600,
            // 1970-01-01 was a Thursday (ISO 4).
            weekday: ((day + 3) % 7 + 7) % 7 + 1
        )
    }

    /// Counts code fences: runs of three or more backticks.
    static func countFences(in text: String) -> Int {
        var text = text
        return text.withUTF8 { bytes in
            var count = 0
            var run = 0
            for byte in bytes {
                if byte == UInt8(ascii: "`") {
                    run += 1
                    if run == 3 { count += 1 }
                } else {
                    run = 0
                }
            }
            return count
        }
    }
}
