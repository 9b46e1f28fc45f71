import Foundation
import Hummingbird
import TollgateCore

/// `GET /admin/keys`, `POST /admin/keys`, `DELETE /admin/keys/{id}`: what `tollgate keys`
/// does, for automation. Secrets are answered once, by the POST that creates them.
struct AdminKeysController {
    let authorization: AdminAuthorization
    let store: KeyStore
    let registry: KeyRegistry

    /// A key as the admin API shows it (never its secret, only the displayable prefix).
    struct KeyView: Encodable {
        var id: String
        var name: String
        var team: String?
        var user: String?
        var models: [String]?
        var rpm: Int?
        var tpm: Int?
        var maxConcurrent: Int?
        var dailyBudgetUSD: Double?
        var createdAt: String
        var revokedAt: String?
        var status: String
        var secretPrefix: String?
        /// Only in the answer to the POST that created the key.
        var secret: String?

        enum CodingKeys: String, CodingKey {
            case id, name, team, user, models, rpm, tpm, status, secret
            case maxConcurrent = "max_concurrent"
            case dailyBudgetUSD = "daily_budget_usd"
            case createdAt = "created_at"
            case revokedAt = "revoked_at"
            case secretPrefix = "secret_prefix"
        }

        init(_ key: GatewayKey, secretPrefix: String?, secret: String? = nil) {
            let formatter = ISO8601DateFormatter()
            self.id = key.id
            self.name = key.name
            self.team = key.team
            self.user = key.user
            self.models = key.allowedModels
            self.rpm = key.requestsPerMinute
            self.tpm = key.tokensPerMinute
            self.maxConcurrent = key.maxConcurrent
            self.dailyBudgetUSD = key.dailyBudgetUSD
            self.createdAt = formatter.string(from: key.createdAt)
            self.revokedAt = key.revokedAt.map(formatter.string(from:))
            self.status = key.isRevoked ? "revoked" : "active"
            self.secretPrefix = secretPrefix
            self.secret = secret
        }
    }

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.get("/admin/keys") { request, _ in
            try self.authorization.check(request)
            let keys = try await self.store.list()
            return try AdminJSON.response(["data": keys.map { KeyView($0.key, secretPrefix: $0.secretPrefix) }])
        }
        router.post("/admin/keys") { request, _ in
            try self.authorization.check(request)
            let keyRequest = try await AdminJSON.decode(KeyRequest.self, from: request)
            if let (field, reason) = keyRequest.problem {
                throw GatewayError.invalidRequest("'\(field)' \(reason).", param: field, code: "invalid_parameter")
            }
            let (key, secret) = try await self.store.create(keyRequest)
            return try AdminJSON.response(KeyView(key, secretPrefix: KeySecret.displayPrefix(secret), secret: secret), status: .created)
        }
        router.delete("/admin/keys/{id}") { request, context in
            try self.authorization.check(request)
            let id = context.parameters.get("id") ?? ""
            guard try await self.store.revoke(id: id) else {
                throw GatewayError(status: 404, type: "invalid_request_error", code: "key_not_found", message: "No key with id '\(id.prefix(64))'.")
            }
            // This gateway stops accepting it at once; others within their cache's lifetime.
            self.registry.forget(keyID: id)
            return try AdminJSON.response(["id": id, "status": "revoked"])
        }
    }
}
