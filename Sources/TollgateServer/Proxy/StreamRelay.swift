import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// Relays a provider's event stream to the client through a transcoder (a pass-through or
/// a translator), event by event as bytes arrive, and prices the request from the usage
/// the transcoder read. The cost follows the stream as the `X-Tollgate-Cost-USD` trailer.
struct StreamRelay<Transcoder: ResponseStreamTranscoder> {
    let upstream: UpstreamResponse
    let transcoder: Transcoder
    let exchange: UpstreamExchange
    let observation: RequestObservation
    let metrics: GatewayMetrics
    let providerName: String
    let modelLabel: String
    let logger: Logger

    /// Transcoders throw only `GatewayError`; typed throws are lost inside the body closure.
    static func gatewayError(_ error: any Error) -> GatewayError {
        (error as? GatewayError) ?? .upstreamInvalidStream("\(error)")
    }

    var body: ResponseBody {
        ResponseBody { writer in
            var transcoder = self.transcoder
            var status = 200
            var output = ByteBuffer()
            output.reserveCapacity(4096)
            defer {
                self.observation.finish(status: status)
                self.logger.info("stream completed", metadata: ["status": "\(status)", "duration_ms": "\(self.observation.elapsed.milliseconds)"])
            }
            var first = true
            var failure: GatewayError?
            let keepsText = self.observation.keepsText
            // Whole events only reach `output`, so a key cannot straddle two checks.
            let scrubber = self.exchange.scrubber
            do {
                for try await var chunk in self.upstream.body {
                    if first {
                        first = false
                        self.observation.firstByte()
                        self.metrics.recordTimeToFirstByte(provider: self.providerName, model: self.modelLabel, duration: self.observation.elapsed)
                    }
                    do {
                        try transcoder.consume(&chunk, into: &output)
                    } catch {
                        failure = Self.gatewayError(error)
                        break
                    }
                    if output.readableBytes > 0 {
                        if let scrubbed = scrubber?.scrub(output) { output = scrubbed }
                        if keepsText { self.observation.recordResponse(output) }
                        try await writer.write(output)
                        output.clear()
                    }
                }
                if failure == nil {
                    do {
                        try transcoder.finish(into: &output)
                    } catch {
                        failure = Self.gatewayError(error)
                    }
                }
            } catch let error as UpstreamError {
                failure = self.exchange.map(error)
                self.logger.warning("upstream stream failed", metadata: ["error": "\(error)"])
            } catch {
                // The client left: the provider billed what it generated until the transfer was
                // cancelled, which the usage seen so far may not cover. Budgets take the worst case.
                status = 499
                self.observation.chargeReservation()
                throw error
            }
            if let failure {
                // Headers are gone already: report the failure the way the client's format does mid-stream.
                status = failure.status
                self.observation.failed(failure)
                // A broken stream's usage report is missing or partial (Anthropic's first
                // event says one output token): charge the reservation, never less.
                self.observation.chargeReservation()
                transcoder.fail(failure, into: &output)
            }
            if output.readableBytes > 0 {
                if let scrubbed = scrubber?.scrub(output) { output = scrubbed }
                if keepsText { self.observation.recordResponse(output) }
                try await writer.write(output)
            }
            if failure == nil { self.observation.record(usage: transcoder.usage) }
            try await writer.finish([.tollgateCostUSD: self.observation.cost.description])
        }
    }
}
