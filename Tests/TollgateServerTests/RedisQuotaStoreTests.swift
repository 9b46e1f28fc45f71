import Foundation
import Logging
import Testing
import TollgateCore
import TollgateRedis
import TollgateTestSupport
@testable import TollgateServer

/// The Lua scripts against a real redis-server, below the HTTP layer.
@Suite struct RedisQuotaStoreTests {
    static func withStore(_ body: @Sendable (RedisQuotaStore) async throws -> Void) async throws {
        try await RedisServerProcess.withServer { server in
            // Generous: on a loaded machine a reply can take longer than the default second.
            let client = RedisClient(configuration: .init(url: try RedisURL(server.url), commandTimeout: .seconds(10)), logger: Logger(label: "test"))
            let running = Task { try await client.run() }
            defer {
                client.shutdown()
                running.cancel()
            }
            try await body(Self.store(client))
        }
    }

    /// A store for one replica without a ledger (a reseed puts nothing back but its marker).
    static func store(_ client: RedisClient, replica: String = "test") -> RedisQuotaStore {
        RedisQuotaStore(client: client, reseeder: BudgetReseeder(replica: replica, client: client, ledger: nil, limits: LimitsConfig(), logger: Logger(label: "test")))
    }

    static func scope(_ limits: LimitSettings) -> QuotaScope {
        QuotaScope(kind: .user, id: "u:test:\(UUID().uuidString)", name: "x", limits: limits, timeZone: TimeZone(identifier: "UTC")!)
    }

    @Test func aCrashedRequestsReservationExpiresWithItsLease() async throws {
        try await Self.withStore { store in
            let scope = Self.scope(.init(maxConcurrent: 1, dailyBudget: USD(dollars: 1)))
            // A request that never settles (its process died), with a short lease.
            let lease = Duration.seconds(3)
            // The lease runs from some moment between sending the claim and its answer.
            let start = ContinuousClock.now
            let lost = QuotaClaim(requestID: "lost", scopes: [scope], tokens: 10, reservation: USD(dollars: 1), lease: lease)
            #expect(try await store.claim(lost).isSuccess)
            let answered = ContinuousClock.now
            let next = QuotaClaim(requestID: "next", scopes: [scope], tokens: 10, reservation: USD(dollars: 0.5))
            let blocked = try await store.claim(next)
            // On a badly overloaded machine the lease may already be over: only then is the slot free.
            if ContinuousClock.now - start < lease {
                guard case .failure(.rateLimited(_, .concurrency, _, _, _, _)) = blocked else {
                    Issue.record("expected the lost request to hold the only slot, got \(blocked)")
                    return
                }
            } else if blocked.isSuccess {
                try await store.settle(next, .nothing)
            }
            // Lease expiries are whole seconds, rounded up: a lease ends within a second after its time.
            try await Task.sleep(until: answered + lease + .milliseconds(1_500))
            let after = QuotaClaim(requestID: "after", scopes: [scope], tokens: 10, reservation: USD(dollars: 0.5))
            let admitted = try await store.claim(after)
            #expect(admitted.isSuccess, "\(admitted)")
            // Settling the lost request late must not release anything twice.
            try await store.settle(lost, .nothing)
            try await store.settle(after, .init(tokens: 5, cost: USD(dollars: 0.25)))
            #expect(store.budgetUsedPercent([scope], at: Date()) == 25)
        }
    }

    /// The spend of a settlement is counted once, however often it arrives.
    @Test func aSettlementCountsOnce() async throws {
        try await Self.withStore { store in
            let scope = Self.scope(.init(dailyBudget: USD(dollars: 10)))
            let claim = QuotaClaim(requestID: "once", scopes: [scope], tokens: 10, reservation: USD(dollars: 2))
            #expect(try await store.claim(claim).isSuccess)
            for _ in 0..<3 { try await store.settle(claim, .init(tokens: 5, cost: USD(dollars: 1))) }
            let probe = try await store.claim(QuotaClaim(requestID: "probe", scopes: [scope], tokens: 1, reservation: .zero)).get()
            #expect(probe.budgetUsedPercent == 10)
        }
    }

    /// A settlement sent while Redis does not answer (a paused server: the command may run
    /// later, when it wakes) is retried until it gets through, and still counts once.
    @Test func aSettlementOutlastsARedisThatStopsAnswering() async throws {
        try await RedisServerProcess.withServer { server in
            // The settling store times out fast, so that its first attempts fail while Redis is
            // paused. The claim and the probe go through a patient one: on a loaded machine a
            // 200 ms timeout can expire on a Redis that is answering (CI once failed so).
            var configuration = RedisClient.Configuration(url: try RedisURL(server.url))
            configuration.commandTimeout = .milliseconds(200)
            let impatient = RedisClient(configuration: configuration, logger: Logger(label: "test"))
            let patient = RedisClient(configuration: .init(url: try RedisURL(server.url), commandTimeout: .seconds(10)), logger: Logger(label: "test"))
            let running = [Task { try await impatient.run() }, Task { try await patient.run() }]
            defer {
                impatient.shutdown()
                patient.shutdown()
                for task in running { task.cancel() }
            }
            let settlingStore = Self.store(impatient)
            let store = Self.store(patient)
            let scope = Self.scope(.init(dailyBudget: USD(dollars: 10)))
            let claim = QuotaClaim(requestID: "paused", scopes: [scope], tokens: 10, reservation: USD(dollars: 2))
            #expect(try await store.claim(claim).isSuccess)
            // Loads the settlement script on the impatient client's connection before the pause.
            try await settlingStore.settle(QuotaClaim(requestID: "warm-up", scopes: [], tokens: 0, reservation: .zero), .nothing)
            server.pause()
            let settling = Task { try await settlingStore.settle(claim, .init(tokens: 5, cost: USD(dollars: 3))) }
            try await Task.sleep(for: .seconds(1.5))
            server.resume()
            try await settling.value
            let probe = try await store.claim(QuotaClaim(requestID: "probe", scopes: [scope], tokens: 1, reservation: .zero)).get()
            #expect(probe.budgetUsedPercent == 30)
        }
    }

    /// Claims look for expired leases only when the scope's `sweep` time has come: it must
    /// follow the shortest lease, whichever claim came first.
    @Test func aShortLeaseAfterALongOneStillExpiresOnTime() async throws {
        try await Self.withStore { store in
            let scope = Self.scope(.init(maxConcurrent: 2, dailyBudget: USD(dollars: 10)))
            let long = QuotaClaim(requestID: "long", scopes: [scope], tokens: 10, reservation: USD(dollars: 1))
            #expect(try await store.claim(long).isSuccess)
            let lease = Duration.seconds(2)
            let lost = QuotaClaim(requestID: "lost", scopes: [scope], tokens: 10, reservation: USD(dollars: 4), lease: lease)
            #expect(try await store.claim(lost).isSuccess)
            let answered = ContinuousClock.now
            try await Task.sleep(until: answered + lease + .milliseconds(1_500))
            // The lost request's slot and reservation are gone; the long one's are kept.
            let after = QuotaClaim(requestID: "after", scopes: [scope], tokens: 10, reservation: USD(dollars: 2))
            #expect(try await store.claim(after).get().budgetUsedPercent == 30)
            let third = try await store.claim(QuotaClaim(requestID: "third", scopes: [scope], tokens: 10, reservation: .zero))
            guard case .failure(.rateLimited(_, .concurrency, _, _, _, _)) = third else {
                Issue.record("expected the long and the new request to hold both slots, got \(third)")
                return
            }
        }
    }

    /// Nothing the scripts write outlives its use: every key has an expiry, including a day's
    /// budget hash made by a settlement whose claim never reached Redis.
    @Test func everyKeyExpires() async throws {
        try await Self.withStore { store in
            let scope = Self.scope(.init(requestsPerMinute: 100, tokensPerMinute: 10_000, maxConcurrent: 5, dailyBudget: USD(dollars: 10)))
            let budgetOnly = Self.scope(.init(dailyBudget: USD(dollars: 10)))
            let claim = QuotaClaim(requestID: "a", scopes: [scope, budgetOnly], tokens: 10, reservation: USD(dollars: 1))
            #expect(try await store.claim(claim).isSuccess)
            try await store.settle(claim, .init(tokens: 5, cost: USD(dollars: 0.5)))
            let neverClaimed = QuotaClaim(requestID: "owed", scopes: [Self.scope(.init(dailyBudget: USD(dollars: 10)))], tokens: 10, reservation: USD(dollars: 1))
            try await store.settle(neverClaimed, .init(tokens: 5, cost: USD(dollars: 0.5)))
            let keys = try await store.client.send(["KEYS", "tg:*"]).arrayValue?.map(\.text) ?? []
            #expect(keys.contains { $0.hasPrefix("tg:b:") })
            #expect(keys.contains { $0.hasPrefix("tg:q:") })
            // One key per replica lives on purpose: its loss is how Redis losing data is noticed.
            #expect(keys.filter { $0.hasPrefix("tg:seeded:") } == [store.reseeder.markerKey])
            for key in keys where !key.hasPrefix("tg:seeded:") {
                let ttl = try await store.client.send(["TTL", key]).integerValue ?? -1
                #expect(ttl > 0, "\(key) has no expiry")
            }
        }
    }

    @Test func settlementRefundsUnusedTokens() async throws {
        try await Self.withStore { store in
            let scope = Self.scope(.init(tokensPerMinute: 1000))
            let first = QuotaClaim(requestID: "a", scopes: [scope], tokens: 900, reservation: .zero)
            let grant = try await store.claim(first).get()
            #expect(grant.tokens?.remaining == 100)
            #expect(try await store.claim(QuotaClaim(requestID: "b", scopes: [scope], tokens: 500, reservation: .zero)).isSuccess == false)
            try await store.settle(first, .init(tokens: 100, cost: .zero))
            let second = try await store.claim(QuotaClaim(requestID: "c", scopes: [scope], tokens: 500, reservation: .zero)).get()
            #expect((second.tokens?.remaining ?? 0) >= 390)
        }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
