import Hummingbird
import Logging
import NIOCore
import TollgateCore

/// `/admin/*`: operations that need the admin key (`TOLLGATE_ADMIN_KEY`). With no admin key
/// configured the admin API is off.
struct AdminController {
    let gateway: Gateway

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.post("/admin/reload") { request, _ in
            try self.requireAdmin(request)
            do {
                let rules = try self.gateway.routing.reload(reason: "POST /admin/reload", logger: self.gateway.logger)
                var body = ByteBuffer(string: #"{"status":"reloaded","routes":\#(rules.routes.count + 1),"files":["#)
                for (index, file) in rules.files.enumerated() {
                    if index > 0 { body.writeString(",") }
                    body.writeJSONQuoted(file)
                }
                body.writeString("]}")
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
            } catch {
                throw GatewayError(status: 422, type: "invalid_request_error", code: "invalid_routes", message: "\(error)")
            }
        }
    }

    private func requireAdmin(_ request: Request) throws(GatewayError) {
        guard let adminKey = self.gateway.config.adminKey else {
            throw GatewayError(status: 403, type: "permission_error", code: "admin_disabled", message: "The admin API is disabled: set TOLLGATE_ADMIN_KEY (admin_key in tollgate.yaml).")
        }
        guard let presented = KeyRegistry.presentedSecret(in: request.headers) else { throw .missingKey }
        // Compare digests so the time taken says nothing about the key.
        guard KeySecret.digest(presented) == KeySecret.digest(adminKey) else {
            throw GatewayError(status: 401, type: "invalid_request_error", code: "invalid_admin_key", message: "Incorrect admin key.")
        }
    }
}
