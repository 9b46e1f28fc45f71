import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// The last stage of a chat request: the client's answer, in its own format, with the
/// headers that say which route, model and fallback step produced it and what it cost.
/// Only here does a typed failure become the client's error.
struct ChainAnswer {
    let ingress: IngressRequest
    let route: String
    let requestID: String
    let observation: RequestObservation
    let metrics: GatewayMetrics
    let fallbackMetrics: FallbackMetrics
    let logger: Logger
    /// Where a provider's answer is stored for exact repeats, when the request may fill the cache.
    var cacheFill: CacheFill?

    /// Limits or budgets refused the request before any attempt: it cost nothing.
    func refusal(_ error: GatewayError, model: String) -> Response {
        self.observation.finish(failing: error)
        var error = error
        error.headers += self.headers(model: model, step: .none).map { ($0.name.canonicalName, $0.value) }
        error.headers.append((HTTPField.Name.tollgateCostUSD.canonicalName, USD.zero.description))
        return error.response(format: self.ingress.format, requestID: self.requestID)
    }

    /// An attempt answered: the whole answer, or its stream.
    func respond(_ answer: AttemptAnswer, served: AttemptLoop.Served, ticket: CostTicket) -> Response {
        self.observation.answered(by: served.step)
        self.fallbackMetrics.answered(route: self.route, step: served.step)
        var headers = self.headers(model: served.target.resolved.model, step: served.step)
        ticket.addRateLimitHeaders(to: &headers)
        switch answer {
        case .whole(let translated, let upstream):
            if let upstreamID = upstream.header("x-request-id") ?? upstream.header("request-id") {
                headers.append(HTTPField(name: .upstreamRequestID, value: upstreamID))
            }
            self.observation.record(usage: translated.usage)
            self.observation.recordResponse(translated.body)
            if let fill = self.fill(for: served.step), (200..<300).contains(upstream.status) {
                fill.storeWhole(translated.body, usage: translated.usage, cost: self.observation.cost)
            }
            headers.append(HTTPField(name: .tollgateCostUSD, value: self.observation.cost.description))
            headers[.contentType] = served.plan.isPassthrough ? upstream.header("content-type") ?? "application/json" : "application/json"
            self.observation.finish(status: upstream.status)
            self.logger.info("request completed", metadata: ["status": "\(upstream.status)", "duration_ms": "\(self.observation.elapsed.milliseconds)"])
            return Response(status: .init(code: upstream.status), headers: headers, body: .init(byteBuffer: translated.body))
        case .stream(let stream):
            if let upstreamID = stream.upstream.header("x-request-id") ?? stream.upstream.header("request-id") {
                headers.append(HTTPField(name: .upstreamRequestID, value: upstreamID))
            }
            var relay = StreamRelay(
                source: .provider(stream, scrubber: served.scrubber), observation: self.observation, metrics: self.metrics,
                providerName: served.target.provider.name, modelLabel: served.target.resolved.metricLabel, logger: self.logger
            )
            relay.cacheFill = self.fill(for: served.step)
            return self.streamResponse(headers: headers, body: relay.body)
        }
    }

    /// The chain ran out and the route names a template: an ordinary answer, cost 0.
    func template(_ text: String, ticket: CostTicket) -> Response {
        self.observation.answeredByTemplate()
        self.fallbackMetrics.answered(route: self.route, step: .template)
        var headers = self.headers(model: self.ingress.model, step: .template)
        ticket.addRateLimitHeaders(to: &headers)
        self.logger.notice("answered by the route's template", metadata: ["route": "\(self.route)"])
        return self.synthetic(SyntheticAnswer(text: text, model: self.ingress.model), headers: headers, label: "template")
    }

    /// An exact repeat: the stored answer, replayed whole or as a stream, cost 0.
    func cached(_ hit: CacheLookup.Hit, model: String, ticket: CostTicket) -> Response {
        let answer = hit.answer
        self.observation.answeredFromCache(hit.status, model: model, avoided: answer.cost)
        var headers = self.headers(model: model, step: .none, cache: hit.status.rawValue)
        if case .semantic(_, let similarity) = hit {
            headers.append(HTTPField(name: .tollgateCacheSimilarity, value: String(format: "%.4f", similarity)))
        }
        ticket.addRateLimitHeaders(to: &headers)
        return self.synthetic(answer.synthetic, headers: headers, label: "cache")
    }

    /// An answer the gateway writes itself, in the client's format, whole or streamed.
    private func synthetic(_ synthetic: SyntheticAnswer, headers: HTTPFields, label: String) -> Response {
        var headers = headers
        guard self.ingress.isStreaming else {
            let body = switch self.ingress.format {
            case .openAI: synthetic.openAIBody()
            case .anthropic: synthetic.anthropicBody()
            }
            self.observation.recordResponse(body)
            headers.append(HTTPField(name: .tollgateCostUSD, value: USD.zero.description))
            headers[.contentType] = "application/json"
            self.observation.finish(status: 200)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        let events: ByteBuffer
        switch self.ingress.payload {
        case .openAI(let chat): events = synthetic.openAIStream(includeUsage: chat.includesStreamUsage)
        case .anthropic: events = synthetic.anthropicStream()
        }
        let relay = StreamRelay(
            source: .synthetic(events), observation: self.observation, metrics: self.metrics, providerName: "tollgate",
            modelLabel: label, logger: self.logger
        )
        return self.streamResponse(headers: headers, body: relay.body)
    }

    /// The answer is stored only when the route's own target gave it: a fallback model's
    /// answer must not be served later as the target's.
    private func fill(for step: LedgerEntry.Fallback) -> CacheFill? {
        step == .none || step == .retry ? self.cacheFill : nil
    }

    /// Nothing in the chain answered: the last failure, in the client's format.
    func failure(_ failure: AttemptFailure, ticket: CostTicket) -> Response {
        self.observation.finish(failing: failure.error)
        var error = failure.error
        var headers = self.headers(model: self.observation.servedModel ?? self.ingress.model, step: .none)
        ticket.addRateLimitHeaders(to: &headers)
        headers.append(HTTPField(name: .tollgateCostUSD, value: self.observation.cost.description))
        error.headers += headers.map { ($0.name.canonicalName, $0.value) }
        self.logger.warning("no step of the chain answered", metadata: ["status": "\(error.status)", "failure": "\(failure.label)"])
        return error.response(format: self.ingress.format, requestID: self.requestID)
    }

    private func streamResponse(headers: HTTPFields, body: ResponseBody) -> Response {
        var headers = headers
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        // The cost of a stream is known only at its end: it follows as a trailer.
        headers[.trailerFields] = HTTPField.Name.tollgateCostUSD.canonicalName
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Appended, not set: these names are not there yet, and setting searches the fields.
    private func headers(model: String, step: LedgerEntry.Fallback, cache: String = "miss") -> HTTPFields {
        var headers = HTTPFields()
        headers.reserveCapacity(16)
        headers.append(HTTPField(name: .tollgateRoute, value: self.route))
        headers.append(HTTPField(name: .tollgateModel, value: model))
        headers.append(HTTPField(name: .tollgateCache, value: cache))
        headers.append(HTTPField(name: .tollgateFallback, value: step.rawValue))
        return headers
    }
}
