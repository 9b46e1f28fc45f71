import Foundation
import Testing
@testable import TollgateCore

@Suite struct InProcessQuotaStoreTests {
    let utc = TimeZone(identifier: "UTC")!

    func scope(_ id: String, _ limits: LimitSettings) -> QuotaScope {
        QuotaScope(kind: .user, id: id, name: id, limits: limits, timeZone: limits.timeZone ?? self.utc)
    }

    func claim(_ scopes: [QuotaScope], tokens: Int = 10, cost: Double = 0, at time: Date = Date(timeIntervalSince1970: 1_800_000_000)) -> QuotaClaim {
        QuotaClaim(requestID: UUID().uuidString, scopes: scopes, tokens: tokens, reservation: USD(dollars: cost), time: time)
    }

    @Test func requestsPerMinuteAcrossScopesIsAllOrNothing() async throws {
        let store = InProcessQuotaStore()
        let tight = self.scope("a", .init(requestsPerMinute: 2))
        let loose = self.scope("b", .init(requestsPerMinute: 100))
        for _ in 0..<2 { #expect(try await store.claim(self.claim([loose, tight])).isSuccess) }
        let denied = try await store.claim(self.claim([loose, tight]))
        guard case .failure(.rateLimited(let label, .requests, 2, let retryAfter, _, _)) = denied else {
            Issue.record("expected a requests denial, got \(denied)")
            return
        }
        #expect(label == "user 'a'" && retryAfter > 0)
        // The refused claim took nothing from the loose scope: 98 more fit there alone.
        for _ in 0..<98 { #expect(try await store.claim(self.claim([loose])).isSuccess) }
        #expect(try await store.claim(self.claim([loose])).isSuccess == false)
    }

    @Test func aClaimTakesFromKnownAndNewScopesAlike() {
        let store = InProcessQuotaStore()
        let known = self.scope("known", .init(requestsPerMinute: 3))
        #expect(store.claimNow(self.claim([known])).isSuccess)
        // Forty scopes seen for the first time around a known one: adding them grows the
        // store's table, which must not lose the known scope's update.
        let fresh = (0..<40).map { self.scope("new-\($0)", .init(requestsPerMinute: 1)) }
        #expect(store.claimNow(self.claim(Array(fresh[..<20]) + [known] + Array(fresh[20...]))).isSuccess)
        #expect(store.claimNow(self.claim([known])).isSuccess)
        #expect(store.claimNow(self.claim([known])).isSuccess == false)
        for scope in fresh { #expect(store.claimNow(self.claim([scope])).isSuccess == false) }
        // A refused claim leaves a scope it saw for the first time untouched.
        let newcomer = self.scope("newcomer", .init(requestsPerMinute: 1))
        #expect(store.claimNow(self.claim([newcomer, known])).isSuccess == false)
        #expect(store.claimNow(self.claim([newcomer])).isSuccess)
    }

    @Test func grantReportsTheTightestScope() async throws {
        let store = InProcessQuotaStore()
        let result = try await store.claim(self.claim([self.scope("a", .init(requestsPerMinute: 50, tokensPerMinute: 1000)), self.scope("b", .init(requestsPerMinute: 5))], tokens: 100))
        let grant = try result.get()
        #expect(grant.requests == RateStatus(limit: 5, remaining: 4, resetAfter: 12))
        #expect(grant.tokens?.limit == 1000 && grant.tokens?.remaining == 900)
    }

    @Test func concurrencySlotsAreFreedBySettling() async throws {
        let store = InProcessQuotaStore()
        let scope = self.scope("a", .init(maxConcurrent: 2))
        let first = self.claim([scope]), second = self.claim([scope])
        #expect(try await store.claim(first).isSuccess)
        #expect(try await store.claim(second).isSuccess)
        guard case .failure(.rateLimited(_, .concurrency, 2, _, _, _)) = try await store.claim(self.claim([scope])) else {
            Issue.record("third concurrent request was admitted")
            return
        }
        try await store.settle(first, .nothing)
        #expect(try await store.claim(self.claim([scope])).isSuccess)
    }

    /// Unbounded end-user ids must not grow memory without bound: idle scopes are dropped
    /// every `sweepInterval` claims, while scopes that still hold spend for today are kept.
    @Test func idleScopesAreSweptAndSpendIsKept() {
        let store = InProcessQuotaStore()
        let now = Date()
        let spender = self.scope("spender", .init(dailyBudget: USD(dollars: 100)))
        let paid = self.claim([spender], cost: 1, at: now)
        #expect(store.claimNow(paid).isSuccess)
        store.settleNow(paid, .init(tokens: 1, cost: USD(dollars: 1)))
        for index in 0..<(InProcessQuotaStore.sweepInterval - 2) {
            let idle = self.claim([self.scope("idle-\(index)", .init(dailyBudget: USD(dollars: 1)))], cost: 0, at: now)
            #expect(store.claimNow(idle).isSuccess)
            store.settleNow(idle, .nothing)
        }
        #expect(store.trackedScopeCount == InProcessQuotaStore.sweepInterval - 1)
        // The next claim reaches the interval and sweeps: only the scope with spend remains, besides the new one.
        #expect(store.claimNow(self.claim([self.scope("last", .init(requestsPerMinute: 10))], at: now)).isSuccess)
        #expect(store.trackedScopeCount == 2)
        #expect(store.budgetUsedPercent([spender], at: now) == 1)
    }

    @Test func budgetReservesWorstCaseAndSettlesToActual() async throws {
        let store = InProcessQuotaStore()
        let scope = self.scope("a", .init(dailyBudget: USD(dollars: 1)))
        let first = self.claim([scope], cost: 0.6)
        #expect(try await store.claim(first).isSuccess)
        // 0.6 reserved: another 0.6 would overspend.
        guard case .failure(.budgetExceeded(let label, _, let used, _, let resetsAt)) = try await store.claim(self.claim([scope], cost: 0.6)) else {
            Issue.record("overspending claim admitted")
            return
        }
        #expect(label == "user 'a'" && used == USD(dollars: 0.6))
        #expect(resetsAt == Date(timeIntervalSince1970: 1_800_000_000).nextUTCMidnight)
        try await store.settle(first, .init(tokens: 5, cost: USD(dollars: 0.1)))
        #expect(try await store.claim(self.claim([scope], cost: 0.6)).isSuccess)
        #expect(store.budgetUsedPercent([scope], at: first.time).map { ($0 * 1000).rounded() / 1000 } == 70)
    }

    @Test func budgetsResetAtLocalMidnightOfTheirZone() async throws {
        let store = InProcessQuotaStore()
        let paris = TimeZone(identifier: "Europe/Paris")!
        let scope = self.scope("a", .init(dailyBudget: USD(dollars: 1), timeZone: paris))
        // 2027-01-15 22:30 UTC is 23:30 in Paris; 23:10 UTC is already the 16th there.
        let late = Date(timeIntervalSince1970: 1_800_052_200)
        let first = self.claim([scope], cost: 1, at: late)
        #expect(try await store.claim(first).isSuccess)
        try await store.settle(first, .init(tokens: 1, cost: USD(dollars: 1)))
        #expect(try await store.claim(self.claim([scope], cost: 0.01, at: late.addingTimeInterval(60))).isSuccess == false)
        #expect(try await store.claim(self.claim([scope], cost: 0.01, at: late.addingTimeInterval(40 * 60))).isSuccess)
    }

    @Test func noOverspendUnderConcurrency() async throws {
        let store = InProcessQuotaStore()
        let scope = self.scope("a", .init(dailyBudget: USD(dollars: 1)))
        // Each request reserves 0.02 and really costs between 0.01 and 0.02.
        let spent = await withTaskGroup(of: USD?.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let claim = self.claim([scope], cost: 0.02)
                    guard (try? await store.claim(claim))?.isSuccess == true else { return nil }
                    await Task.yield()
                    let cost = USD(dollars: 0.01 + Double(index % 10) / 1000)
                    try? await store.settle(claim, .init(tokens: 1, cost: cost))
                    return cost
                }
            }
            return await group.reduce(into: [USD]()) { if let cost = $1 { $0.append(cost) } }
        }
        let total = spent.reduce(.zero, +)
        #expect(total <= USD(dollars: 1))
        // Reservations are freed as requests settle, so more than 1 / 0.02 get through.
        #expect(spent.count >= 50 && spent.count < 200)
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}

extension Date {
    var nextUTCMidnight: Date {
        Date(timeIntervalSince1970: ((self.timeIntervalSince1970 / 86_400).rounded(.down) + 1) * 86_400)
    }
}
