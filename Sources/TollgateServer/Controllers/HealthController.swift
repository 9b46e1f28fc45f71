import Hummingbird
import NIOCore
import Prometheus
import TollgateCore
import TollgateRedis

/// Liveness, readiness and Prometheus metrics.
struct HealthController {
    let gateway: Gateway
    let registry: PrometheusCollectorRegistry
    let budgetGauges: BudgetGauges

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.get("/health/live") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"live"}"#)))
        }
        router.get("/health/ready") { _, _ in
            await self.ready()
        }
        router.get("/metrics") { request, _ in
            if let token = self.gateway.config.metricsToken {
                // Digests compared, so the time taken says nothing about the token.
                guard let presented = KeyRegistry.presentedSecret(in: request.headers),
                    KeySecret.digest(presented).constantTimeEquals(KeySecret.digest(token))
                else {
                    throw GatewayError(
                        status: 401, type: "invalid_request_error", code: "invalid_metrics_token",
                        message: "/metrics wants 'Authorization: Bearer <metrics_token>'."
                    )
                }
            }
            if let ledger = self.gateway.ledger { self.gateway.metrics.recordLedger(ledger) }
            await self.budgetGauges.record()
            var bytes: [UInt8] = []
            bytes.reserveCapacity(16 << 10)
            self.registry.emit(into: &bytes)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
    }

    /// Ready when the config is loaded and the stores answer. Providers without credentials
    /// are listed as unavailable but do not make the gateway unready: other providers and the
    /// local embedding model still serve.
    func ready() async -> Response {
        var storesReady = true
        var buffer = ByteBuffer(string: #"{"status":"#)
        var checks = ByteBuffer(string: #","stores":{"key_store":"#)
        if (try? await self.gateway.keyStore.ping()) != nil {
            checks.writeString(#""ok""#)
        } else {
            // A PostgreSQL outage is survived (cached keys, spilled rows): stay in rotation.
            if self.gateway.postgresLedger == nil { storesReady = false }
            checks.writeString(#""unreachable""#)
        }
        checks.writeString(#","ledger":"#)
        if let postgres = self.gateway.postgresLedger, self.gateway.ledgerStore != nil {
            checks.writeString(postgres.isAvailable ? #""ok""# : #""spilling""#)
        } else if let ledger = self.gateway.ledgerStore {
            if (try? await ledger.ping()) != nil {
                checks.writeString(#""ok""#)
            } else {
                storesReady = false
                checks.writeString(#""unreachable""#)
            }
        } else {
            checks.writeString(#""disabled""#)
        }
        if let redis = self.gateway.redis {
            checks.writeString(#","redis":"#)
            if (try? await redis.ping()) != nil {
                checks.writeString(#""ok""#)
            } else {
                storesReady = false
                checks.writeString(#""unreachable""#)
            }
        }
        checks.writeString(#"},"providers":{"#)
        for (index, provider) in self.gateway.providers.availability.enumerated() {
            if index > 0 { checks.writeString(",") }
            checks.writeJSONQuoted(provider.name)
            checks.writeString(#":{"available":"#)
            if let reason = provider.unavailableReason {
                checks.writeString(#"false,"reason":"#)
                checks.writeJSONQuoted(reason)
            } else {
                checks.writeString("true")
            }
            checks.writeString("}")
        }
        // Open circuits do not make a replica unready: every replica skips the same deployments.
        checks.writeString(#"},"circuits":{"#)
        for (index, circuit) in self.gateway.breakers.notClosed.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { checks.writeString(",") }
            checks.writeJSONQuoted(circuit.key)
            checks.writeString(":")
            checks.writeJSONQuoted(circuit.value.rawValue)
        }
        checks.writeString(#"},"embeddings":{"available":"#)
        if let reason = self.gateway.embedder.unavailableReason {
            checks.writeString(#"false,"reason":"#)
            checks.writeJSONQuoted(reason)
        } else {
            checks.writeString("true")
        }
        checks.writeString("}}")
        buffer.writeString(storesReady ? #""ready""# : #""unready""#)
        buffer.writeBuffer(&checks)
        return Response(
            status: storesReady ? .ok : .serviceUnavailable,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: buffer)
        )
    }
}
