import Foundation
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream
import Tracing

/// Walks a request's fallback chain: asks the `FallbackPlanner` what to try, makes each
/// attempt on a target `AttemptTargets` picks, feeds circuit breakers and metrics, and
/// stops at the first attempt that answers, at the template, or when nothing is left.
/// Every attempt runs within the route's total deadline, and within what the request's
/// budget reservation still covers.
struct AttemptLoop {
    let targets: AttemptTargets
    let caller: UpstreamCaller
    let translation: TranslationConfig
    let metrics: FallbackMetrics
    let price: @Sendable (String) -> ModelPrice?
    let limits: @Sendable (String) -> ModelLimits
    /// Counts text for trimming a conversation (nil: estimated from its length).
    let tokenizers: Tokenizers?

    /// One request's side of the loop.
    struct Request {
        var ingress: IngressRequest
        var route: String
        var timeouts: RouteTimeouts
        var caps: RouteCaps
        /// When the route's total time is up (nil: no deadline).
        var deadline: ContinuousClock.Instant?
        var promptTokens: Int
        var observation: RequestObservation
        var logger: Logger
        /// The request's spans, when traces are on: each attempt is a child.
        var trace: RequestTrace?
        /// The note put where a trimmed conversation lost `n` messages.
        var trimNote: (Int) -> String
    }

    enum Outcome {
        case answer(AttemptAnswer, Served)
        /// Answer with this template; `last` is the failure that ended the chain.
        case template(String, last: AttemptFailure?)
        case failed(AttemptFailure)
    }

    /// The attempt that answered.
    struct Served {
        var target: ChosenTarget
        var plan: UpstreamPlan
        var step: LedgerEntry.Fallback
        var scrubber: SecretScrubber?
    }

    func run(_ request: Request, planner: inout FallbackPlanner) async -> Outcome {
        var next = planner.start()
        var last: AttemptFailure?
        while true {
            switch next {
            case .giveUp:
                return .failed(last ?? AttemptFailure(.unavailable, error: .providerUnavailable(provider: request.route, reason: "no target")))
            case .template(let name):
                return .template(name, last: last)
            case .attempt(let attempt):
                if attempt.delay > .zero {
                    do {
                        try await Task.sleep(for: attempt.delay)
                    } catch {
                        return .failed(UpstreamExchange.clientLeft)
                    }
                }
                let (result, deploymentID) = await self.attempt(attempt, request)
                switch result {
                case .success(let answer):
                    return .answer(answer.0, answer.1)
                case .failure(let failure):
                    last = failure
                    if failure.disposition == .final && failure.kind == .cancelled { return .failed(failure) }
                    let remaining = request.deadline.map { $0 - ContinuousClock.now }
                    next = planner.next(after: failure, deployment: deploymentID, remaining: remaining, jitter: Double.random(in: 0..<1))
                    if case .attempt(let upcoming) = next {
                        request.logger.notice(
                            "attempt failed; trying the next step",
                            metadata: [
                                "attempt": "\(attempt.number)", "failure": "\(failure.label)", "next_model": "\(upcoming.model)",
                                "next_step": "\(upcoming.step.rawValue)", "delay_ms": "\(upcoming.delay.milliseconds)",
                            ]
                        )
                    }
                }
            }
        }
    }

    /// One attempt: target, plan, budget check, the call. Returns the deployment it used.
    private func attempt(
        _ attempt: FallbackPlanner.Attempt, _ request: Request
    ) async -> (Result<(AttemptAnswer, Served), AttemptFailure>, String?) {
        let target: ChosenTarget
        do {
            target = try self.targets.choose(attempt)
        } catch {
            self.metrics.attempt(route: request.route, outcome: error.label)
            return (.failure(error), nil)
        }
        let observation = request.observation
        let span = request.trace?.child("chat \(target.resolved.model)", kind: .client)
        defer { span?.end() }
        span.map { Self.describe($0, attempt: attempt, target: target) }
        let price = self.price(target.resolved.model) ?? .free
        observation.attempting(.init(
            model: target.resolved.model, provider: target.provider.name, metricLabel: target.resolved.metricLabel, price: price,
            release: target.release
        ))
        func fail(_ failure: AttemptFailure, charge: USD = .zero) -> (Result<(AttemptAnswer, Served), AttemptFailure>, String?) {
            span?.attributes["error.type"] = failure.label
            span?.setStatus(SpanStatus(code: .error, message: failure.error.message))
            observation.attemptFailed(failure, charge: charge)
            self.metrics.attempt(route: request.route, outcome: failure.label)
            if failure.kind != .cancelled, failure.kind != .unavailable {
                self.targets.breakers.record(target.deploymentID, success: !failure.isDeploymentFault)
            }
            return (.failure(failure), target.deploymentID)
        }
        var logger = request.logger
        logger[metadataKey: "model"] = .string(target.resolved.model)
        var (ingress, caps, promptTokens) = (request.ingress, request.caps, request.promptTokens)
        if attempt.stage > 0 {
            // A fallback model may have a smaller window, or write less, than the target.
            let fit = ContextFit(limits: self.limits(target.resolved.model), trimmer: self.trimmer(for: target.resolved.model), note: request.trimNote)
            do {
                guard let fitted = try fit.fit(ingress, promptTokens: promptTokens, caps: caps) else {
                    return fail(AttemptFailure(.unavailable, error: .providerUnavailable(
                        provider: target.provider.name, reason: "the conversation does not fit \(target.resolved.model)'s context window"
                    )))
                }
                (ingress, caps, promptTokens) = (fitted.ingress, fitted.caps, fitted.promptTokens)
                if fitted.droppedMessages > 0 {
                    self.metrics.trimmed(route: request.route, model: target.resolved.model, messages: fitted.droppedMessages)
                    logger.notice(
                        "conversation trimmed to fit the fallback model",
                        metadata: ["dropped_messages": "\(fitted.droppedMessages)", "prompt_tokens": "\(promptTokens)"]
                    )
                }
            } catch {
                return fail(AttemptFailure(.unavailable, error: error))
            }
        }
        let plan: UpstreamPlan
        do {
            plan = try UpstreamPlan.make(
                for: ingress, resolved: target.resolved, provider: target.provider, caps: caps,
                translation: self.translation, logger: logger
            )
        } catch {
            // The first target's refusal is the client's to see; a fallback that cannot take
            // the request is skipped.
            return fail(AttemptFailure(attempt.number == 1 ? .status(400) : .unavailable, error: error))
        }
        // No attempt may take the request past what admission reserved for it.
        let (spent, reserved) = observation.budgetLeft
        let worstCase = price.worstCaseCost(inputTokens: promptTokens, maxOutputTokens: plan.maxOutputTokens ?? 0)
        if let reserved, spent > .zero, spent + worstCase > reserved {
            return fail(AttemptFailure(.unavailable, error: .providerUnavailable(
                provider: target.provider.name, reason: "the request's budget reservation does not cover another attempt"
            )))
        }
        var exchange = UpstreamExchange(caller: self.caller, provider: target.provider, model: target.resolved, logger: logger)
        exchange.routeTimeouts = request.timeouts
        exchange.remaining = request.deadline.map { $0 - ContinuousClock.now }
        if let span, let trace = request.trace { exchange.traceHeaders = trace.propagationHeaders(for: span) }
        do {
            let answer = try await UpstreamAttempt(
                exchange: exchange, plan: plan, streaming: ingress.isStreaming, promptTokens: promptTokens,
                countTokens: self.tokenCounter(for: target.resolved.model)
            ).run(observation: observation)
            self.targets.breakers.record(target.deploymentID, success: true)
            self.metrics.attempt(route: request.route, outcome: "ok")
            return (.success((answer, Served(target: target, plan: plan, step: attempt.step, scrubber: exchange.scrubber))), target.deploymentID)
        } catch {
            // A provider that answered and then broke has billed the prompt (a stream broken
            // before content), or perhaps a whole answer the gateway could not use.
            let output = request.ingress.isStreaming ? 0 : plan.maxOutputTokens ?? 0
            let charge = error.providerAnswered ? price.worstCaseCost(inputTokens: promptTokens, maxOutputTokens: output) : .zero
            // Every failure passes here before a client, a log line or the ledger sees it.
            var failure = error
            if let scrubber = exchange.scrubber { failure.error = scrubber.scrub(failure.error) }
            return fail(failure, charge: charge)
        }
    }

    /// An attempt's client span, named and described as the GenAI conventions say (it ends
    /// when the provider's answer is in, or for a stream when its head is).
    private static func describe(_ span: any Span, attempt: FallbackPlanner.Attempt, target: ChosenTarget) {
        span.attributes["gen_ai.operation.name"] = "chat"
        span.attributes["gen_ai.request.model"] = target.resolved.model
        span.attributes["gen_ai.provider.name"] = switch target.provider.config.kind {
        case .openai: "openai"
        case .anthropic: "anthropic"
        case .azureOpenAI: "azure.ai.openai"
        }
        if let host = URL(string: target.provider.config.baseURL)?.host { span.attributes["server.address"] = host }
        span.attributes["tollgate.provider"] = target.provider.name
        span.attributes["tollgate.deployment"] = target.deploymentID
        span.attributes["tollgate.attempt"] = attempt.number
        span.attributes["tollgate.fallback_step"] = attempt.step.rawValue
    }

    /// Trims with the model's tokenizer, or with the gateway's byte estimate without one.
    private func trimmer(for model: String) -> ConversationTrimmer {
        ConversationTrimmer(count: self.tokenCounter(for: model))
    }

    /// The model's tokenizer, or the gateway's byte estimate without one (and for texts long
    /// enough that BPE would hold the thread).
    private func tokenCounter(for model: String) -> @Sendable (String) -> Int {
        let counter = self.tokenizers?.counter(forModel: model)
        return { text in
            let bytes = text.utf8.count
            guard let counter, bytes <= 64 << 10 else { return PromptTokenEstimator.tokens(utf8Bytes: bytes) }
            return counter.count(text)
        }
    }
}
