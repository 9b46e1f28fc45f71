import Foundation
import Testing
import TollgateCore
import TollgateTestSupport

/// Two live gateways on one real redis-server: a circuit one of them opens is skipped by
/// the other too, and shows in both readiness reports.
@Suite struct SharedCircuitTests {
    static let routes = """
        routes:
          - name: chain
            when: { feature: model, eq: gpt-5 }
            target: gpt-5
            retries: 1
            fallbacks: [gpt-4.1-mini]
          - { name: default, default: true, target: passthrough }
        """

    static func circuits(_ gateway: GatewayHarness) async throws -> [String: String] {
        let ready = try await gateway.http.send("GET", "/health/ready")
        return (ready.json?["circuits"] as? [String: String]) ?? [:]
    }

    @Test func aCircuitOpenedOnOneReplicaIsSkippedByTheOther() async throws {
        try await RedisServerProcess.withServer { redis in
            let configure: @Sendable (inout GatewayConfig) -> Void = { config in
                SharedLimitsTests.sharedRedis(redis.url)(&config)
                // Two failures open it (one request and its retry); closed again only by a probe.
                config.circuitBreaker = CircuitBreaker.Policy(failureRatio: 0.5, minimumRequests: 2, window: .seconds(600), coolDown: .seconds(600))
            }
            try await GatewayHarness.run(configure: configure) { first in
                try await GatewayHarness.run(configure: configure) { second in
                    for gateway in [first, second] {
                        try gateway.writeRoutes(Self.routes)
                        #expect(try await gateway.adminReload().status == 200)
                    }
                    first.provider.setBehavior(.error(status: 503, type: "server_error", code: nil, message: "down"), forModel: "gpt-5")
                    let failed = try await first.chat(FallbackChainTests.ask("gpt-5"))
                    #expect(failed.header("X-Tollgate-Model") == "gpt-4.1-mini")
                    #expect(try await Self.circuits(first) == ["openai/gpt-5": "open"])

                    // The other replica learns it within a sync or two, and skips gpt-5.
                    let shared = await waitUntil { (try? await Self.circuits(second)) == ["openai/gpt-5": "open"] }
                    #expect(shared)
                    let skipped = try await second.chat(FallbackChainTests.ask("gpt-5"))
                    #expect(skipped.status == 200 && skipped.header("X-Tollgate-Model") == "gpt-4.1-mini")
                    #expect(second.provider.received(forModel: "gpt-5").isEmpty)
                }
            }
        }
    }
}
