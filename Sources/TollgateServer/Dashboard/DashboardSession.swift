import Crypto
import Foundation
import HTTPTypes

/// The dashboard's sign-in: a cookie (`HttpOnly`, `SameSite=Strict`, path `/dashboard`) that
/// says "signed in with the admin key until T", so the key itself never sits in a URL, a page
/// or the browser's storage.
///
/// The cookie is `v1.<expiry>.<nonce>.<HMAC-SHA256 of the rest>`, keyed by the admin key's
/// digest: every replica with the same admin key accepts it (no shared session store), and
/// changing the admin key ends every session. Signing out clears the cookie in the browser; a
/// copy of it would stay valid until it expires (`lifetime`).
struct DashboardSession: Sendable {
    static let cookieName = "tollgate_session"
    static let lifetime: TimeInterval = 12 * 3600

    /// The HMAC key's bytes (`SymmetricKey` is not `Sendable`): derived from the admin key.
    private let keyBytes: [UInt8]?

    init(adminKey: String?) {
        self.keyBytes = adminKey.map { Array(SHA256.hash(data: Data(("tollgate-dashboard-session:" + $0).utf8))) }
    }

    private var key: SymmetricKey? { self.keyBytes.map { SymmetricKey(data: $0) } }

    /// A new session's cookie value, valid until `now + lifetime`.
    func issue(now: Date = Date()) -> String? {
        guard let key else { return nil }
        let expiry = Int64((now.timeIntervalSince1970 + Self.lifetime).rounded(.down))
        let nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let payload = "v1.\(expiry).\(nonce)"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `headers` carry a session cookie this gateway issued that has not expired.
    func isValid(_ headers: HTTPFields, now: Date = Date()) -> Bool {
        guard let key, let value = Self.cookie(in: headers) else { return false }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let expiry = Int64(parts[1]), Double(expiry) > now.timeIntervalSince1970,
            let mac = Self.bytes(hex: parts[3]), mac.count == 32
        else { return false }
        let payload = parts[0...2].joined(separator: ".")
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(payload.utf8), using: key)
    }

    /// The `Set-Cookie` value that starts a session; `Secure` when the client reached the
    /// gateway over HTTPS (through a proxy that says so).
    static func setCookie(_ value: String, secure: Bool) -> String {
        "\(Self.cookieName)=\(value); Path=/dashboard; Max-Age=\(Int(Self.lifetime)); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that ends it.
    static let clearCookie = "\(cookieName)=; Path=/dashboard; Max-Age=0; HttpOnly; SameSite=Strict"

    private static func cookie(in headers: HTTPFields) -> Substring? {
        for line in headers[values: .cookie] {
            for pair in line.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                if trimmed.hasPrefix(Self.cookieName + "=") { return trimmed.dropFirst(Self.cookieName.count + 1) }
            }
        }
        return nil
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        guard hex.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
