/// Fits a conversation into a smaller context window for a fallback model: keeps the system
/// prompt and the most recent turns, drops the oldest turns after the system prompt whole
/// (a turn runs from one user message to the next, so a tool call and its result always go
/// together), and puts a note where they were.
public struct ConversationTrimmer: Sendable {
    /// How a message takes part in the plan.
    public struct Message: Sendable, Equatable {
        public var tokens: Int
        /// A user message of the user's own (not only tool results): a turn starts here.
        public var opensTurn: Bool

        public init(tokens: Int, opensTurn: Bool) {
            self.tokens = tokens
            self.opensTurn = opensTurn
        }
    }

    /// What a trim removed.
    public struct Trim: Sendable, Equatable {
        /// The dropped messages: the oldest turns after the pinned prefix.
        public var dropped: Range<Int>
        public var droppedTokens: Int
    }

    /// Counts a text's tokens (the fallback model's tokenizer, or an estimate).
    public let count: @Sendable (String) -> Int

    public init(count: @escaping @Sendable (String) -> Int) {
        self.count = count
    }

    /// The fewest whole turns to drop so that at least `excess` tokens go: from the first
    /// message after the `pinned` prefix up to a later turn's start. The last turn is never
    /// dropped; nil when dropping everything before it is not enough (or there is no turn).
    public static func plan(_ messages: [Message], pinned: Int, excess: Int) -> Trim? {
        guard excess > 0 else { return nil }
        guard let last = messages.indices.last(where: { $0 > pinned && messages[$0].opensTurn }) else { return nil }
        var dropped = 0
        for index in pinned..<last {
            dropped += messages[index].tokens
            if dropped >= excess, messages[index + 1].opensTurn {
                return Trim(dropped: pinned..<(index + 1), droppedTokens: dropped)
            }
        }
        return nil
    }

    // MARK: Chat Completions

    /// Trims `request` by at least `excess` tokens (the note included), or nil when it cannot.
    public func trim(_ request: ChatCompletionRequest, excess: Int, note: (Int) -> String) -> (ChatCompletionRequest, Trim)? {
        let pinned = request.messages.prefix { $0.role == .system || $0.role == .developer }.count
        let messages = request.messages.map { Message(tokens: TokenCounter.count($0, text: self.count), opensTurn: $0.role == .user) }
        // The note's size depends on how many messages it reports; any count has as many digits.
        let noteTokens = self.count(note(messages.count)) + 2
        guard let trim = Self.plan(messages, pinned: pinned, excess: excess + noteTokens) else { return nil }
        var trimmed = request
        trimmed.messages.removeSubrange(trim.dropped)
        let text = note(trim.dropped.count)
        let first = trim.dropped.lowerBound
        switch trimmed.messages[first].content {
        case .text(let content): trimmed.messages[first].content = .text(text + "\n\n" + content)
        case .parts(let parts): trimmed.messages[first].content = .parts([["type": .string("text"), "text": .string(text)]] + parts)
        case nil: trimmed.messages[first].content = .text(text)
        }
        return (trimmed, Trim(dropped: trim.dropped, droppedTokens: trim.droppedTokens - noteTokens))
    }

    // MARK: Anthropic Messages

    /// Trims `request` by at least `excess` tokens (the note included), or nil when it cannot.
    /// The system prompt is its own field, so nothing is pinned among the messages.
    public func trim(_ request: AnthropicMessagesRequest, excess: Int, note: (Int) -> String) -> (AnthropicMessagesRequest, Trim)? {
        let messages = request.messages.map { message in
            Message(
                tokens: self.tokens(of: message),
                opensTurn: message.role == .user && !message.content.contentBlocks.contains { $0["type"]?.stringValue == "tool_result" }
            )
        }
        let noteTokens = self.count(note(messages.count)) + 2
        // The first message must stay a user's: a plan may only start dropping at a turn.
        guard messages.first?.opensTurn == true, let trim = Self.plan(messages, pinned: 0, excess: excess + noteTokens) else { return nil }
        var trimmed = request
        trimmed.messages.removeSubrange(trim.dropped)
        let text = note(trim.dropped.count)
        switch trimmed.messages[0].content {
        case .text(let content): trimmed.messages[0].content = .text(text + "\n\n" + content)
        case .blocks(let blocks): trimmed.messages[0].content = .blocks([["type": .string("text"), "text": .string(text)]] + blocks)
        }
        return (trimmed, Trim(dropped: trim.dropped, droppedTokens: trim.droppedTokens - noteTokens))
    }

    /// An Anthropic message's tokens: its text, tool inputs and results as compact JSON, an
    /// image as OpenAI counts a high-detail one.
    private func tokens(of message: AnthropicMessage) -> Int {
        var total = TokenCounter.tokensPerMessage + 1
        for block in message.content.contentBlocks {
            switch block["type"]?.stringValue {
            case "text": total += block["text"]?.stringValue.map(self.count) ?? 0
            case "image": total += TokenCounter.imageTokens
            default: total += self.count(JSONText.compact(.object(block)))
            }
        }
        return total
    }
}
