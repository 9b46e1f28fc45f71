// What scrubbing the provider key costs per relayed stream event and per whole answer, against
// the byte-for-byte search it replaced (reference in the same run). Release build:
//   swift build -c release --product scrub-bench && .build/release/scrub-bench
import Foundation
import NIOCore
import TollgateCore

let secret = "sk-proj-" + String(repeating: "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", count: 5)  // a 168-byte project key
let raw = SecretScrubber(secret: secret)!

func event(_ index: Int) -> ByteBuffer {
    ByteBuffer(string: #"data: {"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion.chunk","created":1733400000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":" word\#(index) is here"},"logprobs":null,"finish_reason":null}]}"# + "\n\n")
}
let events = (0..<1000).map(event)
let whole = ByteBuffer(string: #"{"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion","created":1733400000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"\#(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 40))","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":400,"total_tokens":412}}"#)

func measure(_ label: String, rounds: Int, _ body: () -> Int) -> Double {
    var best = Double.infinity
    var sink = 0
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        sink &+= body()
        let elapsed = ContinuousClock.now - start
        best = min(best, Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9)
    }
    precondition(sink >= 0)
    return best
}

let eventBytes = events.reduce(0) { $0 + $1.readableBytes }
let reference = measure("raw", rounds: 200) { events.reduce(0) { $0 + (raw.scrub($1)?.readableBytes ?? 1) } }
let stream = measure("stream", rounds: 200) {
    var scrubber = raw.streamScrubber()
    var total = 0
    for event in events {
        let released = scrubber.feed(event)
        total += (raw.scrub(released) ?? released).readableBytes
    }
    return total + scrubber.finish().readableBytes
}
let wholeRaw = measure("whole raw", rounds: 2000) { raw.scrub(whole)?.readableBytes ?? 1 }
let wholeDocument = measure("whole document", rounds: 2000) { raw.scrubDocument(whole)?.readableBytes ?? 1 }

print("stream event (\(eventBytes / events.count) bytes): raw search \(String(format: "%.0f", reference / 1000)) ns/event, "
    + "stream scrubber + raw search \(String(format: "%.0f", stream / 1000)) ns/event (\(String(format: "%.1f", stream / reference))x)")
print("whole answer (\(whole.readableBytes) bytes): raw search \(String(format: "%.0f", wholeRaw)) ns, "
    + "document scrub \(String(format: "%.0f", wholeDocument)) ns (\(String(format: "%.1f", wholeDocument / wholeRaw))x)")
