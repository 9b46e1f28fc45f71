import NIOCore

/// Reading Anthropic usage and writing usage in both wire formats (OpenAI's reader is in
/// `TokenUsage+OpenAI`). OpenAI's `prompt_tokens` includes cached tokens
/// (`prompt_tokens_details.cached_tokens` is a subset); Anthropic's `input_tokens` excludes
/// both cache reads and cache writes. `TokenUsage` always holds the whole prompt.
extension TokenUsage {
    /// Usage from a non-streamed Anthropic Messages answer, or nil when it has none.
    public static func fromAnthropicResponse(_ body: ByteBuffer) -> TokenUsage? {
        (try? WireJSON.decode(AnthropicWire.Message.self, from: body))?.usage.map(TokenUsage.init(anthropic:))
    }

    init(anthropic usage: AnthropicWire.Usage) {
        let read = usage.cache_read_input_tokens ?? 0
        let write = usage.cache_creation_input_tokens ?? 0
        self.init(
            inputTokens: (usage.input_tokens ?? 0).saturatingAdd(read).saturatingAdd(write),
            cachedInputTokens: read,
            cacheWriteInputTokens: write,
            outputTokens: usage.output_tokens ?? 0
        )
    }

    /// Folds in an Anthropic `message_delta` usage: its counts are cumulative, and input
    /// counts appear there only on newer API versions, so absent fields keep what
    /// `message_start` said.
    mutating func merge(anthropic usage: AnthropicWire.Usage) {
        if let output = usage.output_tokens { self.outputTokens = output }
        guard usage.input_tokens != nil || usage.cache_read_input_tokens != nil || usage.cache_creation_input_tokens != nil else { return }
        let read = usage.cache_read_input_tokens ?? self.cachedInputTokens
        let write = usage.cache_creation_input_tokens ?? self.cacheWriteInputTokens
        let uncached = usage.input_tokens ?? self.uncachedInputTokens
        self.inputTokens = uncached.saturatingAdd(read).saturatingAdd(write)
        self.cachedInputTokens = read
        self.cacheWriteInputTokens = write
    }

    /// OpenAI's `usage` object: `prompt_tokens` counts cached tokens too.
    public var openAIJSON: JSONValue {
        .object([
            "prompt_tokens": .int(Int64(self.inputTokens)),
            "completion_tokens": .int(Int64(self.outputTokens)),
            "total_tokens": .int(Int64(self.totalTokens)),
            "prompt_tokens_details": .object(["cached_tokens": .int(Int64(self.cachedInputTokens))]),
            "completion_tokens_details": .object(["reasoning_tokens": .int(0)]),
        ])
    }

    /// Anthropic's `usage` object: `input_tokens` excludes cache reads and writes.
    public var anthropicJSON: JSONValue {
        .object([
            "input_tokens": .int(Int64(self.uncachedInputTokens)),
            "cache_creation_input_tokens": .int(Int64(self.cacheWriteInputTokens)),
            "cache_read_input_tokens": .int(Int64(self.cachedInputTokens)),
            "output_tokens": .int(Int64(self.outputTokens)),
        ])
    }
}
