import HTTPTypes
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TollgateCore
import TollgateUpstream

/// `GET /v1/models`: the models the calling key may use, in OpenAI's list format (Anthropic's
/// for the Anthropic SDK, which sends `anthropic-version`). Models
/// named in `tollgate.yaml` are always listed; for name patterns (`gpt-5*`) the provider's own
/// model list is fetched (cached) and filtered, so clients see concrete names they can send.
struct ModelsController {
    let gateway: Gateway

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.get("/v1/models") { request, context in
            try await self.list(request, context: context)
        }
        router.get("/v1/models/{id}") { request, context in
            try await self.show(request, context: context)
        }
    }

    func list(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let key = try await self.gateway.keys.authenticate(request.headers)
        let models = await self.visibleModels(for: key)
        let anthropic = Self.wantsAnthropicFormat(request)
        var buffer = ByteBuffer(string: anthropic ? #"{"data":["# : #"{"object":"list","data":["#)
        for (index, model) in models.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            Self.write(model, anthropic: anthropic, into: &buffer)
        }
        buffer.writeString("]")
        if anthropic {
            buffer.writeString(#","has_more":false,"first_id":"#)
            if let first = models.first { buffer.writeJSONQuoted(first.id) } else { buffer.writeString("null") }
            buffer.writeString(#","last_id":"#)
            if let last = models.last { buffer.writeJSONQuoted(last.id) } else { buffer.writeString("null") }
        }
        buffer.writeString("}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    func show(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let key = try await self.gateway.keys.authenticate(request.headers)
        let id = context.parameters.get("id") ?? ""
        guard let model = await self.visibleModels(for: key).first(where: { $0.id == id }) else {
            throw GatewayError.modelNotFound(id)
        }
        var buffer = ByteBuffer()
        Self.write(model, anthropic: Self.wantsAnthropicFormat(request), into: &buffer)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    /// The Anthropic SDK sends `anthropic-version` with every request; its model list has
    /// another shape (`type`, `display_name`, `created_at`, `has_more`).
    static func wantsAnthropicFormat(_ request: Request) -> Bool {
        request.headers[.anthropicVersion] != nil
    }

    struct ListedModel: Equatable {
        var id: String
        var ownedBy: String
    }

    func visibleModels(for key: GatewayKey) async -> [ListedModel] {
        var seen = Set<String>()
        var result: [ListedModel] = []
        func add(_ id: String, ownedBy: String) {
            guard key.allows(model: id), seen.insert(id).inserted else { return }
            result.append(ListedModel(id: id, ownedBy: ownedBy))
        }
        // Aliases first: they are what the routing rules want apps to use.
        for alias in self.gateway.routing.rules.aliases.sorted() { add(alias, ownedBy: "tollgate") }
        for model in self.gateway.providers.namedModels { add(model.name, ownedBy: model.provider) }
        if self.gateway.embedder.isAvailable, key.allows(model: self.gateway.config.embeddings.localModelName) {
            let name = self.gateway.config.embeddings.localModelName
            if seen.insert(name).inserted { result.append(ListedModel(id: name, ownedBy: "tollgate")) }
        }
        for (providerName, provider) in self.gateway.providers.providers.sorted(by: { $0.key < $1.key })
        where provider.unavailableReason == nil && self.gateway.providers.hasPatterns(for: providerName)
            && provider.config.url(for: .models, model: "") != nil
        {
            for id in await self.gateway.modelCatalog.models(of: provider, gateway: self.gateway) {
                // Only names whose first matching mapping points at this provider.
                if self.gateway.providers.resolve(model: id)?.providerName == providerName { add(id, ownedBy: providerName) }
            }
        }
        return result
    }

    static func write(_ model: ListedModel, anthropic: Bool = false, into buffer: inout ByteBuffer) {
        if anthropic {
            buffer.writeString(#"{"type":"model","id":"#)
            buffer.writeJSONQuoted(model.id)
            buffer.writeString(#","display_name":"#)
            buffer.writeJSONQuoted(model.id)
            buffer.writeString(#","created_at":"1970-01-01T00:00:00Z"}"#)
            return
        }
        buffer.writeString(#"{"id":"#)
        buffer.writeJSONQuoted(model.id)
        buffer.writeString(#","object":"model","created":0,"owned_by":"#)
        buffer.writeJSONQuoted(model.ownedBy)
        buffer.writeString("}")
    }
}

/// Model ids a provider reports at `GET /models`, cached for `ttl` per provider. A failed
/// fetch is cached briefly too, so a down provider does not slow every listing.
final class ModelCatalog: Sendable {
    private let entries = Mutex<[String: (ids: [String], expires: ContinuousClock.Instant)]>([:])
    private let ttl: Duration = .seconds(600)
    private let failureTTL: Duration = .seconds(30)

    func models(of provider: Provider, gateway: Gateway) async -> [String] {
        let now = ContinuousClock.now
        if let cached = self.entries.withLock({ $0[provider.name] }), cached.expires > now { return cached.ids }
        let ids = await self.fetch(provider, gateway: gateway)
        self.entries.withLock { $0[provider.name] = (ids ?? [], now + (ids == nil ? self.failureTTL : self.ttl)) }
        return ids ?? []
    }

    private func fetch(_ provider: Provider, gateway: Gateway) async -> [String]? {
        // Only OpenAI-compatible providers list models here; the others' named models are listed from the config.
        guard let url = provider.config.url(for: .models, model: "") else { return nil }
        let request = UpstreamRequest(
            method: "GET",
            url: url,
            headers: gateway.upstreamHeaders(for: provider, hasBody: false),
            body: nil,
            timeouts: UpstreamTimeouts(connect: provider.config.timeouts.connect, total: .seconds(10), idle: .seconds(10))
        )
        guard let response = try? await gateway.upstream.execute(request), response.status == 200,
            let body = try? await response.collectBody(upTo: 8 << 20),
            let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let data = object["data"] as? [[String: Any]]
        else {
            gateway.logger.warning("could not list provider models", metadata: ["provider": "\(provider.name)"])
            return nil
        }
        return data.compactMap { $0["id"] as? String }.sorted()
    }
}

extension HTTPField.Name {
    static let anthropicVersion = Self("anthropic-version")!
}
