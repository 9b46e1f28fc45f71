import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// Relays a stream to the client: a provider's stream past its first content (what the
/// attempt held back goes first, then event by event as bytes arrive, through the plan's
/// transcoder), or events the gateway wrote itself (a template). Prices the request from the
/// usage the transcoder read; the cost follows the stream as the `X-Tollgate-Cost-USD` trailer.
///
/// Once content has reached the client the stream never falls back: a failure becomes an
/// error event in the client's format, never a silent end or another model's words.
struct StreamRelay {
    enum Source: Sendable {
        case provider(StartedStream, scrubber: SecretScrubber?)
        case synthetic(ByteBuffer)
    }

    let source: Source
    let observation: RequestObservation
    let metrics: GatewayMetrics
    let providerName: String
    let modelLabel: String
    let logger: Logger
    /// Stores the answer for exact repeats once the stream ended cleanly.
    var cacheFill: CacheFill?

    var body: ResponseBody {
        ResponseBody { writer in
            var status = 200
            defer {
                self.observation.finish(status: status)
                self.logger.info("stream completed", metadata: ["status": "\(status)", "duration_ms": "\(self.observation.elapsed.milliseconds)"])
            }
            switch self.source {
            case .synthetic(let events):
                self.observation.firstByte()
                if self.observation.keepsText { self.observation.recordResponse(events) }
                try await writer.write(events)
            case .provider(let stream, let scrubber):
                do {
                    status = try await self.relay(stream, scrubber: scrubber, to: &writer)
                } catch {
                    status = 499  // the client left
                    throw error
                }
            }
            try await writer.finish([.tollgateCostUSD: self.observation.cost.description])
        }
    }

    /// Relays a provider stream; returns the status the ledger records.
    private func relay(_ stream: StartedStream, scrubber: SecretScrubber?, to writer: inout any ResponseBodyWriter) async throws -> Int {
        var transcoder = stream.transcoder
        var iterator = stream.iterator
        var output = stream.pending
        output.reserveCapacity(4096)
        let keepsText = self.observation.keepsText
        self.observation.firstByte()
        self.metrics.recordTimeToFirstByte(provider: self.providerName, model: self.modelLabel, duration: self.observation.elapsed)
        var failure: GatewayError?
        // What the client received: for the cache, and to bill a stream that breaks by the
        // tokens relayed. Past the bound it is dropped (a broken stream is then billed by events).
        var transcript: ByteBuffer? = ByteBuffer()
        let transcriptLimit = max(self.cacheFill?.transcriptLimit ?? 0, Self.billingTranscriptLimit)
        // The provider's key is cut however it comes (escaped, split across events): the
        // scrubber may hold an event back until the next one shows whether it is the key.
        var secrets = scrubber?.streamScrubber()
        func send(_ output: inout ByteBuffer, last: Bool = false) async throws {
            if secrets != nil, output.readableBytes > 0 || last {
                var released = secrets!.feed(output)
                if last { var rest = secrets!.finish(); released.writeBuffer(&rest) }
                output = scrubber!.scrub(released) ?? released
            }
            guard output.readableBytes > 0 else { return }
            if keepsText { self.observation.recordResponse(output) }
            if transcript != nil {
                if transcript!.readableBytes + output.readableBytes > transcriptLimit { transcript = nil } else { transcript!.writeImmutableBuffer(output) }
            }
            try await writer.write(output)
            output.clear()
        }
        do {
            try await send(&output)
            if !stream.ended {
                while var chunk = try await iterator.next() {
                    do {
                        try transcoder.consume(&chunk, into: &output)
                    } catch {
                        failure = error
                        break
                    }
                    try await send(&output)
                }
                if failure == nil {
                    do {
                        try transcoder.finish(into: &output)
                    } catch {
                        failure = error
                    }
                }
            }
        } catch let error as UpstreamError {
            failure = UpstreamExchange.streamFailure(error, provider: self.providerName)
            self.logger.warning("upstream stream failed", metadata: ["error": "\(error)"])
        } catch {
            // The client left: billed what the provider reported, else the tokens relayed.
            self.observation.truncated()
            self.observation.record(usage: self.brokenStreamUsage(stream, transcoder: transcoder, transcript: transcript))
            throw error
        }
        guard let failure else {
            try await send(&output, last: true)
            self.observation.record(usage: transcoder.usage)
            if let fill = self.cacheFill, let transcript, transcript.readableBytes <= fill.transcriptLimit {
                fill.storeStream(transcript, usage: self.observation.usage, cost: self.observation.cost)
            }
            return 200
        }
        // The client has content already: report the failure the way its format does
        // mid-stream, and mark the answer truncated.
        self.observation.failed(failure)
        self.observation.truncated()
        self.observation.record(usage: self.brokenStreamUsage(stream, transcoder: transcoder, transcript: transcript))
        transcoder.fail(failure, into: &output)
        try await send(&output, last: true)
        return failure.status
    }

    /// The most of a stream kept to bill it by its tokens should it break.
    static let billingTranscriptLimit = 1 << 20

    /// What a stream that broke after content (or whose client left) is billed: what the
    /// provider reported, where it reported it (Anthropic's first event has the prompt's count
    /// and says one output token), else the gateway's own prompt count; for output, the
    /// tokens the client received, counted with the model's tokenizer (at least one per
    /// provider event when the transcript was too long to keep). Never the reservation.
    private func brokenStreamUsage(_ stream: StartedStream, transcoder: PlannedTranscoder, transcript: ByteBuffer?) -> TokenUsage {
        let relayed = transcript.map { stream.countTokens(RelayedText.generated(in: $0, format: transcoder.clientFormat)) }
        return Self.brokenStreamUsage(
            reported: transcoder.usage, promptTokens: stream.promptTokens, relayedTokens: relayed ?? transcoder.providerEvents
        )
    }

    static func brokenStreamUsage(reported: TokenUsage?, promptTokens: Int, relayedTokens: Int) -> TokenUsage {
        var usage = reported ?? TokenUsage()
        if usage.inputTokens == 0 { usage.inputTokens = promptTokens }
        usage.outputTokens = max(usage.outputTokens, relayedTokens)
        return usage
    }
}
