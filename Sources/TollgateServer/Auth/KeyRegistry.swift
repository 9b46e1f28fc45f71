import Foundation
import HTTPTypes
import Synchronization
import TollgateCore

/// Answers "which gateway key is this?" for every request. Keys declared in `budgets/` are
/// held in memory; keys from the SQLite store are cached for a short time so a revocation
/// made by `tollgate keys revoke` in another process takes effect within `cacheTTL`.
final class KeyRegistry: Sendable {
    private let declared: [KeyDigest: GatewayKey]
    private let store: KeyStore
    private let cacheTTL: Duration
    private let cache: Mutex<[KeyDigest: CacheEntry]>
    private static let maxCachedEntries = 10_000

    /// How long a cached answer may stand in while the store cannot be reached (a PostgreSQL
    /// outage): keys known a moment ago keep working; unknown ones get a 503.
    private static let staleIfError: Duration = .seconds(600)

    private struct CacheEntry {
        var key: GatewayKey?
        var expires: ContinuousClock.Instant
    }

    init(declared: [(digest: KeyDigest, key: GatewayKey)], store: KeyStore, cacheTTL: Duration = .seconds(2)) {
        self.declared = Dictionary(declared.map { ($0.digest, $0.key) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.cacheTTL = cacheTTL
        self.cache = Mutex([:])
    }

    /// The keys declared in `budgets/keys.yaml`.
    var declaredKeys: [GatewayKey] { Array(self.declared.values) }

    /// Drops what is cached about the key `keyID` (revoked through the admin API): its next
    /// request here is checked against the store.
    func forget(keyID: String) {
        self.cache.withLock { cache in cache = cache.filter { $0.value.key?.id != keyID } }
    }

    /// The secret a client presented: `Authorization: Bearer <key>` or `x-api-key: <key>`.
    static func presentedSecret(in headers: HTTPFields) -> Substring? {
        if let authorization = headers[.authorization] {
            // "Bearer " in any case, compared byte by byte (no lowercased copy per request).
            if authorization.utf8.count > 7, authorization.utf8.prefix(7).elementsEqual("bearer ".utf8, by: { $0 | 0x20 == $1 }) {
                return authorization.dropFirst(7).drop(while: { $0 == " " })
            }
        }
        if let apiKey = headers[.xAPIKey], !apiKey.isEmpty { return apiKey[...] }
        return nil
    }

    /// The key a request authenticates as, or the 401 to answer with.
    func authenticate(_ headers: HTTPFields) async throws(GatewayError) -> GatewayKey {
        guard let secret = Self.presentedSecret(in: headers), !secret.isEmpty else { throw .missingKey }
        // Bound the work an attacker can cause with absurd header values.
        guard secret.utf8.count <= 256 else { throw .invalidKey }
        let digest = KeySecret.digest(secret)
        if let key = self.declared[digest] { return key }
        let now = ContinuousClock.now
        let cached = self.cache.withLock({ $0[digest] })
        if let entry = cached, entry.expires > now {
            guard let key = entry.key, !key.isRevoked else { throw .invalidKey }
            return key
        }
        let key: GatewayKey?
        do {
            key = try await self.store.lookup(hash: digest.hex)
        } catch {
            if let entry = cached, entry.expires + Self.staleIfError > now {
                guard let key = entry.key, !key.isRevoked else { throw .invalidKey }
                return key
            }
            throw GatewayError(
                status: 503, type: "service_unavailable", code: "key_store_unavailable",
                message: "The gateway could not check the API key right now. Retry shortly."
            )
        }
        self.cache.withLock { cache in
            if cache.count >= Self.maxCachedEntries { cache.removeAll(keepingCapacity: true) }
            cache[digest] = CacheEntry(key: key, expires: now + self.cacheTTL)
        }
        guard let key, !key.isRevoked else { throw .invalidKey }
        return key
    }
}
