/// `finish_reason` (OpenAI) and `stop_reason` (Anthropic) name the same few outcomes.
enum StopReason {
    /// Anthropic → OpenAI. Both stop kinds become `stop` (OpenAI does not say which stop
    /// sequence matched); `refusal` is Anthropic's safety stop, OpenAI's `content_filter`.
    static func openAI(fromAnthropic reason: String?) -> String? {
        switch reason {
        case nil: nil
        case "end_turn", "stop_sequence", "pause_turn": "stop"
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    /// OpenAI → Anthropic.
    static func anthropic(fromOpenAI reason: String?) -> String? {
        switch reason {
        case nil: nil
        case "length": "max_tokens"
        case "tool_calls", "function_call": "tool_use"
        case "content_filter": "refusal"
        default: "end_turn"
        }
    }
}

/// Response ids carry over between formats so a response can be traced across them:
/// `msg_01XF…` becomes `chatcmpl-01XF…` and back.
enum ResponseID {
    static func openAI(fromAnthropic id: String?) -> String {
        guard let id, !id.isEmpty else { return "chatcmpl-" + Self.random() }
        return "chatcmpl-" + (id.hasPrefix("msg_") ? String(id.dropFirst(4)) : id)
    }

    static func anthropic(fromOpenAI id: String?) -> String {
        guard let id, !id.isEmpty else { return "msg_" + Self.random() }
        return "msg_" + (id.hasPrefix("chatcmpl-") ? String(id.dropFirst(9)) : id)
    }

    static func random() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<24).map { _ in alphabet.randomElement()! })
    }
}
