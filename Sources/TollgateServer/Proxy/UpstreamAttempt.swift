import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// What an attempt that succeeded hands to the client side.
enum AttemptAnswer: Sendable {
    /// A whole answer, already in the client's format.
    case whole(TranslatedResponse, upstream: UpstreamResponse)
    /// A stream whose first content arrived; nothing has been sent to the client yet.
    case stream(StartedStream)
}

/// A provider stream past its first content: the relay sends `pending` and goes on reading.
struct StartedStream: Sendable {
    var upstream: UpstreamResponse
    var iterator: UpstreamBody.AsyncIterator
    var transcoder: PlannedTranscoder
    /// What the client gets first: the events read while deciding the attempt, transcoded.
    var pending: ByteBuffer
    /// The provider's stream already ended (a short answer came in one read).
    var ended: Bool
    /// The gateway's count of the prompt sent: what a stream that breaks before the
    /// provider reports usage is charged as input.
    var promptTokens: Int
    /// Counts tokens of the answering model's output (a broken stream is billed by them).
    var countTokens: @Sendable (String) -> Int
}

/// One attempt at the answer on one target: sends the planned request and reads until the
/// answer is certain (a whole answer, or a stream's first content). Every failure before
/// that point is an `AttemptFailure` the fallback chain may still absorb, since the client
/// has been sent nothing.
struct UpstreamAttempt {
    let exchange: UpstreamExchange
    let plan: UpstreamPlan
    let streaming: Bool
    let promptTokens: Int
    let countTokens: @Sendable (String) -> Int

    func run(observation: RequestObservation) async throws(AttemptFailure) -> AttemptAnswer {
        let started = ContinuousClock.now
        let upstream = try await self.exchange.send(self.plan.endpoint, body: self.plan.body, extraHeaders: self.plan.extraHeaders)
        observation.upstreamResponded(status: upstream.status)
        guard (200..<300).contains(upstream.status) else {
            throw await self.exchange.failure(answer: upstream)
        }
        guard self.streaming else {
            let body: ByteBuffer
            do {
                body = try await self.exchange.collect(upstream)
            } catch {
                throw error.answered()
            }
            do {
                var answer = try self.plan.clientAnswer(body)
                // A provider may quote its key in an answer, escaped or not: the client never sees it.
                if let clean = self.exchange.scrubber?.scrubDocument(answer.body) { answer.body = clean }
                return .whole(answer, upstream: upstream)
            } catch {
                throw AttemptFailure(.invalidAnswer, error: error).answered()
            }
        }
        return .stream(try await self.awaitFirstContent(upstream, since: started))
    }

    /// Reads the stream until its first content (or its end), holding back what the client
    /// would get. A provider that sends no content within the first-byte timeout, breaks
    /// first, or reports an error first has failed this attempt.
    private func awaitFirstContent(_ upstream: UpstreamResponse, since started: ContinuousClock.Instant) async throws(AttemptFailure) -> StartedStream {
        let provider = self.exchange.provider
        var detector = StreamStartDetector(
            wire: provider.config.speaksOpenAI ? .openAI : .anthropic, provider: provider.name, model: self.exchange.model.model
        )
        var transcoder = PlannedTranscoder(self.plan, provider: provider.name)
        var iterator = upstream.body.makeAsyncIterator()
        var pending = ByteBuffer()
        // The first-byte timeout covers the first content too, not only the response head.
        let watchdog = self.exchange.firstByteTimeout.map { timeout in
            let body = upstream.body
            return Task {
                try await Task.sleep(until: started.advanced(by: timeout))
                body.abort(.firstByteTimeout)
            }
        }
        defer { watchdog?.cancel() }
        do {
            while detector.state == .waiting {
                guard var chunk = try await iterator.next() else {
                    // Ended before any content: a complete empty answer, or a broken stream.
                    try transcoder.finish(into: &pending)
                    return StartedStream(
                        upstream: upstream, iterator: iterator, transcoder: transcoder, pending: pending, ended: true, promptTokens: self.promptTokens,
                        countTokens: self.countTokens
                    )
                }
                try detector.inspect(chunk)
                try transcoder.consume(&chunk, into: &pending)
            }
        } catch let error as UpstreamError {
            throw self.exchange.failure(error).answered()
        } catch let error as GatewayError {
            throw AttemptFailure(.invalidAnswer, error: error).answered()
        } catch {
            throw UpstreamExchange.clientLeft
        }
        if case .failed(let error) = detector.state {
            throw AttemptFailure(.streamError, error: error).answered()
        }
        return StartedStream(
            upstream: upstream, iterator: iterator, transcoder: transcoder, pending: pending, ended: false, promptTokens: self.promptTokens,
            countTokens: self.countTokens
        )
    }
}

extension AttemptFailure {
    /// The failure came after the provider's 2xx head: it may have billed the prompt.
    func answered() -> AttemptFailure {
        var failure = self
        failure.providerAnswered = true
        return failure
    }
}
