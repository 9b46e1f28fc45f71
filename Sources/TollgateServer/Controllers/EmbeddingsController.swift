import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore
import TollgateEmbedding
import TollgateUpstream
import Logging

/// `POST /v1/embeddings`: the built-in model answers its own name in-process; every other
/// model is relayed to its provider.
struct EmbeddingsController {
    let gateway: Gateway
    static let route = "embeddings"

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.post("/v1/embeddings") { request, context in
            try await self.handle(request, context: context)
        }
    }

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let key = try await self.gateway.keys.authenticate(request.headers)
        let body = try await RequestBody.collect(request, limit: self.gateway.config.server.maxBodyBytes)
        return try await RequestWork.run(bodySize: body.readableBytes) {
            try await self.respond(to: request, body: body, key: key, context: context, start: start)
        }
    }

    private func respond(
        to request: Request, body: ByteBuffer, key: GatewayKey, context: GatewayRequestContext, start: ContinuousClock.Instant
    ) async throws -> Response {
        let embeddings = try RequestBody.decode(EmbeddingsRequest.self, from: body)
        let localName = self.gateway.config.embeddings.localModelName
        let costs = self.gateway.costs
        let user = try ClientIdentifier.endUser(
            boundTo: key.user, claims: [("user", embeddings.user), ("X-Tollgate-User", request.headers[.tollgateUser])]
        )
        _ = try ClientIdentifier.check(embeddings.model, param: "model")
        let scopes = costs.scopes(key: key, user: user)

        if embeddings.model == localName {
            guard key.allows(model: localName) else { throw GatewayError.modelNotAllowed(localName) }
            let observation = RequestObservation(
                metrics: self.gateway.metrics, costs: costs, ledger: self.gateway.ledger,
                context: LedgerContext(
                    requestID: context.requestID, key: key, user: user, requestedModel: localName, servedModel: localName,
                    provider: "local", stream: false
                ),
                route: Self.route, model: localName, start: start
            )
            do {
                let ticket = try await costs.admit(
                    requestID: context.requestID, scopes: scopes, price: try costs.price(for: localName),
                    inputTokens: Self.estimateTokens(embeddings.input), maxOutputTokens: 0, logger: context.logger
                )
                observation.admitted(ticket)
                var response = try await self.embedLocally(embeddings)
                observation.upstreamResponded(status: 200)
                ticket.addRateLimitHeaders(to: &response.headers)
                response.headers[.tollgateCostUSD] = USD.zero.description
                observation.finish(status: 200)
                return response
            } catch {
                observation.finish(status: (error as? GatewayError)?.status ?? 500)
                throw error
            }
        }

        guard let resolved = self.gateway.providers.resolve(model: embeddings.model), resolved.kind == .embedding else {
            throw GatewayError.modelNotFound(embeddings.model)
        }
        guard key.allows(model: resolved.model) else { throw GatewayError.modelNotAllowed(resolved.model) }
        let provider = try self.gateway.provider(for: resolved)
        var upstreamBody = body
        if resolved.upstreamModel != embeddings.model {
            var renamed = try RequestBody.decode(JSONObject.self, from: body)
            renamed["model"] = .string(resolved.upstreamModel)
            upstreamBody = try RequestBody.encode(renamed)
        }
        let observation = RequestObservation(
            metrics: self.gateway.metrics, costs: costs, ledger: self.gateway.ledger,
            context: LedgerContext(
                requestID: context.requestID, key: key, user: user, requestedModel: embeddings.model, servedModel: resolved.model,
                provider: provider.name, stream: false
            ),
            route: Self.route, model: resolved.metricLabel, start: start
        )
        let exchange = UpstreamExchange(caller: self.gateway.upstreamCaller, provider: provider, model: resolved, logger: context.logger)
        do throws(GatewayError) {
            let ticket = try await costs.admit(
                requestID: context.requestID, scopes: scopes, price: try costs.price(for: resolved.model),
                inputTokens: Self.estimateTokens(embeddings.input, counter: self.gateway.tokenizers?.counter(forModel: resolved.model)),
                maxOutputTokens: 0, logger: context.logger
            )
            observation.admitted(ticket)
            let upstream: UpstreamResponse
            do throws(AttemptFailure) {
                upstream = try await exchange.send(.embeddings, body: upstreamBody)
            } catch {
                throw error.error
            }
            observation.upstreamResponded(status: upstream.status)
            guard (200..<300).contains(upstream.status) else {
                let error = await exchange.failure(answer: upstream).error
                observation.finish(failing: error)
                return error.response(format: .openAI)
            }
            let answer: ByteBuffer
            do throws(AttemptFailure) {
                answer = try await exchange.collect(upstream)
            } catch {
                throw error.error
            }
            observation.record(usage: TokenUsage.fromOpenAIBody(answer))
            var headers: HTTPFields = [
                .contentType: upstream.header("content-type") ?? "application/json",
                .tollgateRoute: "direct", .tollgateModel: resolved.model, .tollgateCache: "miss", .tollgateFallback: "none",
                .tollgateCostUSD: observation.cost.description,
            ]
            ticket.addRateLimitHeaders(to: &headers)
            observation.finish(status: upstream.status)
            return Response(status: .init(code: upstream.status), headers: headers, body: .init(byteBuffer: answer))
        } catch {
            observation.finish(failing: error)
            throw error
        }
    }

    /// Input tokens for limits, before the provider counts them: counted with `counter` (the
    /// model's BPE encoding) when the tokenizers are loaded, else about 4 bytes a token.
    static func estimateTokens(_ input: EmbeddingsRequest.Input, counter: TokenCounter? = nil) -> Int {
        switch input {
        case .texts(let texts):
            texts.reduce(0) { $0 + (counter?.count($1) ?? PromptTokenEstimator.tokens(utf8Bytes: $1.utf8.count)) }
        case .tokens(let tokens): tokens.reduce(0) { $0 + $1.count }
        }
    }

    private func embedLocally(_ request: EmbeddingsRequest) async throws -> Response {
        let embedder = try self.gateway.embedder.get()
        guard case .texts(let texts) = request.input else {
            throw GatewayError.invalidRequest(
                "The model '\(request.model)' takes text input; token arrays are not supported.", param: "input"
            )
        }
        if let dimensions = request.dimensions, dimensions != embedder.dimensions {
            throw GatewayError.invalidRequest(
                "The model '\(request.model)' produces \(embedder.dimensions)-dimensional vectors; 'dimensions' cannot change that.",
                param: "dimensions"
            )
        }
        let batch: EmbeddingBatch
        do {
            batch = try await embedder.embed(texts)
        } catch {
            self.gateway.logger.error("local embedding failed", metadata: ["error": "\(error)"])
            throw GatewayError.internalError
        }
        let base64 = request.encodingFormat == .base64
        var buffer = ByteBuffer()
        buffer.reserveCapacity(texts.count * embedder.dimensions * (base64 ? 6 : 12) + 256)
        buffer.writeString(#"{"object":"list","data":["#)
        for (index, vector) in batch.vectors.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeString(#"{"object":"embedding","index":\#(index),"embedding":"#)
            if base64 {
                // Little-endian float32, as OpenAI encodes it.
                let bytes = vector.withUnsafeBytes { Data($0) }
                buffer.writeString("\"" + bytes.base64EncodedString() + "\"")
            } else {
                buffer.writeInteger(UInt8(ascii: "["))
                for (position, value) in vector.enumerated() {
                    if position > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                    buffer.writeString(value.description)
                }
                buffer.writeInteger(UInt8(ascii: "]"))
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
        let tokens = batch.totalTokens
        buffer.writeString(#"],"model":"#)
        buffer.writeJSONQuoted(request.model)
        buffer.writeString(#","usage":{"prompt_tokens":\#(tokens),"total_tokens":\#(tokens)}}"#)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json",
                .tollgateRoute: "local", .tollgateModel: request.model, .tollgateCache: "miss", .tollgateFallback: "none",
            ],
            body: .init(byteBuffer: buffer)
        )
    }
}

/// The in-process embedding model, loaded once at start-up. When its files are missing the
/// gateway still runs and requests for it get a 503 that says how to install it.
final class LocalEmbedderSlot: Sendable {
    /// The in-process model, nil when it could not be loaded.
    let local: LocalEmbedder?
    private var embedder: (any Embedder)? { self.local }
    let unavailableReason: String?

    init(config: EmbeddingsConfig, logger: Logger) {
        do {
            self.local = try LocalEmbedder(modelDirectory: config.modelDirectory, modelName: config.localModelName, threads: config.threads)
            self.unavailableReason = nil
            if let upgrade = OpenBLASRuntime.upgrade {
                logger.info("OpenBLAS kernels replaced: it ran generic ones on this CPU", metadata: ["from": "\(upgrade.from)", "to": "\(upgrade.to)"])
            }
            if let warning = OpenBLASRuntime.performanceWarning { logger.warning("\(warning)") }
        } catch {
            self.local = nil
            self.unavailableReason = "the model at '\(config.modelDirectory)' could not be loaded (\(error)). Run scripts/setup-model.sh to install it."
            logger.warning("local embedding model unavailable", metadata: ["reason": "\(error)", "model_dir": "\(config.modelDirectory)"])
        }
    }

    var isAvailable: Bool { self.embedder != nil }

    func get() throws(GatewayError) -> any Embedder {
        guard let embedder else {
            throw GatewayError.providerUnavailable(provider: "local", reason: self.unavailableReason ?? "not loaded")
        }
        return embedder
    }
}
