import Foundation
import Hummingbird
import TollgateCore

/// `GET /admin/spend?top=N`: today's spend and what is left of each daily budget, per key,
/// team and end user (the top N spenders of each, 10 by default) and for the gateway as a
/// whole, with the time each budget resets (`SpendOverview`).
struct AdminSpendController {
    let authorization: AdminAuthorization
    let overview: SpendOverview
    let ledger: (any LedgerStore)?
    let keys: KeyStore
    let declaredKeys: [GatewayKey]

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.get("/admin/spend") { request, _ in
            try self.authorization.check(request)
            var top = 10
            if let value = request.uri.queryParameters["top"] {
                guard let parsed = Int(value), (1...1000).contains(parsed) else {
                    throw GatewayError.invalidRequest("top must be a number from 1 to 1000.", param: "top", code: "invalid_parameter")
                }
                top = parsed
            }
            let keys = try await self.keys.list().map(\.key) + self.declaredKeys
            return try AdminJSON.response(try await self.overview.make(ledger: self.ledger, keys: keys, top: top))
        }
    }
}
