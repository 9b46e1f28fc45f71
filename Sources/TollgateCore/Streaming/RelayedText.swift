import NIOCore

/// The text a model generated, read back from the stream events a client received: what a
/// broken stream is billed by when the provider never reported its usage (content, refusals,
/// tool names and arguments, thinking), counted with the model's tokenizer by the caller.
public enum RelayedText {
    public static func generated(in transcript: ByteBuffer, format: CachedAnswer.Format) -> String {
        var parser = SSEEventParser()
        var input = transcript
        parser.append(&input)
        parser.finishInput()
        var text = ""
        while let event = try? parser.next() {
            guard event.hasData, !event.isDoneSentinel,
                let value = event.data.withUnsafeReadableBytes({ try? JSONParser.parse($0) })
            else { continue }
            switch format {
            case .openAI:
                for choice in value["choices"]?.arrayValue ?? [] {
                    guard let delta = choice["delta"] else { continue }
                    for field in ["content", "refusal", "reasoning_content"] { text += delta[field]?.stringValue ?? "" }
                    for call in delta["tool_calls"]?.arrayValue ?? [] {
                        text += call["function"]?["name"]?.stringValue ?? ""
                        text += call["function"]?["arguments"]?.stringValue ?? ""
                    }
                }
            case .anthropic:
                if let block = value["content_block"] {
                    text += block["text"]?.stringValue ?? block["name"]?.stringValue ?? ""
                }
                if let delta = value["delta"] {
                    for field in ["text", "partial_json", "thinking"] { text += delta[field]?.stringValue ?? "" }
                }
            }
        }
        return text
    }
}
