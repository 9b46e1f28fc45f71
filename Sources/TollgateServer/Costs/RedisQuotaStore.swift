import Foundation
import Synchronization
import TollgateCore
import TollgateRedis

/// Limits and budgets shared by every gateway process through Redis: a claim and a
/// settlement are each one `EVALSHA` of `QuotaScripts`, so they are atomic across replicas
/// and cost one round trip.
final class RedisQuotaStore: QuotaStore {
    let client: RedisClient
    /// Puts this replica's spend back when Redis lost it; its marker is checked by every claim.
    let reseeder: BudgetReseeder
    /// Budget use from the latest reply per scope and day, for `budget_used_pct`.
    private let budgetUse = Mutex<[String: (day: String, percent: Double)]>([:])

    init(client: RedisClient, reseeder: BudgetReseeder) {
        self.client = client
        self.reseeder = reseeder
    }

    func claim(_ claim: QuotaClaim) async throws -> Result<QuotaGrant, QuotaDenial> {
        let days = claim.budgetDays
        var arguments = [claim.requestID, String(claim.tokens), String(claim.reservation.nanos), String(Int(claim.lease.components.seconds)), String(claim.scopes.count)]
        arguments.reserveCapacity(5 + claim.scopes.count * 4)
        for scope in claim.scopes {
            let limits = scope.limits
            arguments.append(String(limits.requestsPerMinute ?? 0))
            arguments.append(String(limits.tokensPerMinute ?? 0))
            arguments.append(String(limits.maxConcurrent ?? 0))
            arguments.append(String(limits.dailyBudget?.nanos ?? -1))
        }
        var keys = Self.keys(claim, days: days)
        keys.append(self.reseeder.markerKey)
        var reply = try await self.client.evaluate(QuotaScripts.claim, keys: keys, arguments: arguments)
        if reply.arrayValue?.count == 2, reply.arrayValue?[1].text == "unseeded" {
            // Redis lost today's spend: put it back, then ask again (a second miss fails closed).
            try await self.reseeder.reseed()
            reply = try await self.client.evaluate(QuotaScripts.claim, keys: keys, arguments: arguments)
        }
        guard let fields = reply.arrayValue, let admitted = fields.first?.integerValue, fields.count > 2 || admitted == 1 else {
            throw RedisError.reply("unexpected claim reply \(reply)")
        }
        func int(_ index: Int) -> Int { fields.indices.contains(index) ? Int(fields[index].integerValue ?? 0) : 0 }
        func status(_ first: Int) -> RateStatus? {
            int(first) > 0 ? RateStatus(limit: int(first), remaining: int(first + 1), resetAfter: Double(int(first + 2)) / 1000) : nil
        }
        if admitted == 1 {
            let percents = self.remember(fields.count > 7 ? fields[7].text : "", claim: claim, days: days)
            return .success(QuotaGrant(requests: status(1), tokens: status(4), budgetUsedPercent: percents))
        }
        let reason = fields.count > 1 ? fields[1].text : ""
        let index = int(2)
        guard claim.scopes.indices.contains(index) else { throw RedisError.reply("claim refused for unknown scope \(index)") }
        let scope = claim.scopes[index]
        switch reason {
        case "budget":
            let limit = USD(nanos: Int64(fields[3].text) ?? 0), used = USD(nanos: Int64(Double(fields[4].text) ?? 0))
            let day = days[index] ?? BudgetDay(containing: claim.time, in: scope.timeZone)
            return .failure(.budgetExceeded(scope: scope.label, limit: limit, used: used, requested: claim.reservation, resetsAt: day.resetsAt))
        case "too_large":
            return .failure(.tooLarge(scope: scope.label, resource: .tokens, limit: int(3), requested: claim.tokens))
        default:
            let resource = QuotaDenial.Resource(rawValue: reason) ?? .requests
            return .failure(.rateLimited(scope: scope.label, resource: resource, limit: int(3), retryAfter: Double(int(4)) / 1000, requests: status(5), tokens: status(8)))
        }
    }

    func settle(_ claim: QuotaClaim, _ settlement: QuotaSettlement) async throws {
        let days = claim.budgetDays
        var arguments = [
            claim.requestID, String(claim.tokens - settlement.tokens), String(claim.reservation.nanos), String(settlement.cost.nanos),
            String(claim.scopes.count),
        ]
        for scope in claim.scopes {
            arguments.append(String(scope.limits.tokensPerMinute ?? 0))
            arguments.append(String(scope.limits.maxConcurrent ?? 0))
            arguments.append(String(scope.limits.dailyBudget?.nanos ?? -1))
        }
        arguments.append(String(max(1, claim.lease.components.seconds * 2)))
        let keys = Self.keys(claim, days: days) + ["tg:s:" + claim.requestID]
        // The spend must reach Redis: a Redis that is briefly unreachable gets the settlement
        // again, with backoff (the script runs once however many attempts arrive).
        var delay = Self.firstSettleRetry
        var attempt = 1
        while true {
            do {
                let reply = try await self.client.evaluate(QuotaScripts.settle, keys: keys, arguments: arguments)
                _ = self.remember(reply.text, claim: claim, days: days)
                return
            } catch {
                guard error.isTransient, attempt < Self.settleAttempts else { throw error }
            }
            attempt += 1
            try await Task.sleep(for: delay)
            delay *= 3
        }
    }

    /// Attempts at a settlement while Redis is unreachable: 0.2 + 0.6 + 1.8 + 5.4 + 16.2 s
    /// of backoff, about 24 s, well inside any lease.
    static let settleAttempts = 6
    static let firstSettleRetry = Duration.milliseconds(200)

    func budgetUsedPercent(_ scopes: [QuotaScope], days: [BudgetDay?]) -> Double? {
        self.budgetUse.withLock { cache in
            var result: Double?
            for (scope, day) in zip(scopes, days) where scope.limits.dailyBudget != nil {
                guard let day = day?.name else { continue }
                let known = cache[scope.id].flatMap { $0.day == day ? $0.percent : nil } ?? 0
                result = max(result ?? 0, known)
            }
            return result
        }
    }

    /// Caches `index:share` pairs from a reply (shares in ten-thousandths of a percent);
    /// returns the highest, in percent.
    private func remember(_ text: String, claim: QuotaClaim, days: [BudgetDay?]) -> Double? {
        guard !text.isEmpty else { return nil }
        var highest: Double?
        self.budgetUse.withLock { cache in
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: ":")
                guard parts.count == 2, let index = Int(parts[0]), let share = Int64(parts[1]),
                      claim.scopes.indices.contains(index), let day = days[index] else { continue }
                let percent = Double(share) / 10_000
                cache[claim.scopes[index].id] = (day.name, percent)
                highest = max(highest ?? 0, percent)
            }
            if cache.count > 100_000 { cache.removeAll(keepingCapacity: true) }
        }
        return highest
    }

    /// The hash of a scope's spend and reservations for one budget day.
    static func budgetKey(scopeID: String, day: String) -> String { "tg:b:{\(scopeID)}:\(day)" }

    static func keys(_ claim: QuotaClaim, days: [BudgetDay?]) -> [String] {
        var keys: [String] = []
        keys.reserveCapacity(claim.scopes.count * 4)
        for (scope, day) in zip(claim.scopes, days) {
            let id = scope.id
            let dayName = day?.name ?? "-"
            keys.append("tg:q:{\(id)}")
            keys.append("tg:c:{\(id)}")
            keys.append(Self.budgetKey(scopeID: id, day: dayName))
            keys.append("tg:r:{\(id)}:\(dayName)")
        }
        return keys
    }
}

extension RedisReply {
    /// A bulk or status reply as text; integers in decimal.
    var text: String {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let status): status
        case .integer(let value): String(value)
        default: ""
        }
    }
}
