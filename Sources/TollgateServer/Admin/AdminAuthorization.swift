import Hummingbird
import TollgateCore

/// Who may use `/admin/*`: the holder of the admin key (`TOLLGATE_ADMIN_KEY`), sent as
/// `Authorization: Bearer <key>` or `x-api-key`. With no admin key configured the admin API
/// is off.
struct AdminAuthorization: Sendable {
    private let adminKeyDigest: KeyDigest?

    init(adminKey: String?) {
        self.adminKeyDigest = adminKey.map { KeySecret.digest($0) }
    }

    var isEnabled: Bool { self.adminKeyDigest != nil }

    /// Whether `secret` is the admin key. Compares SHA-256 digests in constant time, so the
    /// time taken says nothing about the key.
    func accepts(_ secret: some StringProtocol) -> Bool {
        guard let adminKeyDigest, secret.utf8.count <= 1024 else { return false }
        return KeySecret.digest(secret).constantTimeEquals(adminKeyDigest)
    }

    /// Throws the 403 (admin API off) or 401 (no or wrong admin key) a request gets.
    func check(_ request: Request) throws(GatewayError) {
        guard self.isEnabled else {
            throw GatewayError(
                status: 403, type: "permission_error", code: "admin_disabled",
                message: "The admin API is disabled: set TOLLGATE_ADMIN_KEY (admin_key in tollgate.yaml)."
            )
        }
        guard let presented = KeyRegistry.presentedSecret(in: request.headers) else { throw .missingKey }
        guard self.accepts(presented) else {
            throw GatewayError(status: 401, type: "invalid_request_error", code: "invalid_admin_key", message: "Incorrect admin key.")
        }
    }
}
