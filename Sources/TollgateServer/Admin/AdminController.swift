import Hummingbird
import Logging
import NIOCore
import TollgateCore

/// `POST /admin/reload`: reloads `routes/` and says which files it read, or 422 with the
/// first error (the previous rules keep serving).
struct AdminController {
    let authorization: AdminAuthorization
    let routing: RoutingTable
    let logger: Logger

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.post("/admin/reload") { request, _ in
            try self.authorization.check(request)
            do {
                let rules = try self.routing.reload(reason: "POST /admin/reload", logger: self.logger)
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
}
