import Foundation
import Synchronization

/// Daily budgets reset at local midnight in their time zone. A budget day is named by its
/// local date (`2026-11-29`), which is also part of its Redis key, so every gateway process
/// agrees on it without coordination.
public struct BudgetDay: Sendable, Hashable {
    public var name: String
    /// Local midnight at the start of the day.
    public var startsAt: Date
    /// The next local midnight: when this day's budget resets.
    public var resetsAt: Date

    /// The day containing `date` in `timeZone`. Calendar arithmetic costs microseconds and
    /// every request asks, so the current day of each zone is remembered until it ends.
    public init(containing date: Date, in timeZone: TimeZone) {
        self.init(containing: date, in: timeZone, zoneID: timeZone.identifier)
    }

    init(containing date: Date, in timeZone: TimeZone, zoneID: String) {
        if let cached = Self.cache.withLock({ $0[zoneID] }), cached.startsAt <= date, date < cached.resetsAt {
            self = cached
            return
        }
        self.init(computing: date, in: timeZone)
        let day = self
        Self.cache.withLock { $0[zoneID] = day }
    }

    init(computing date: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        self.name = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        self.startsAt = calendar.startOfDay(for: date)
        self.resetsAt = calendar.date(byAdding: .day, value: 1, to: self.startsAt) ?? date.addingTimeInterval(86_400)
    }

    private static let cache = Mutex<[String: BudgetDay]>([:])

    /// The current day of every scope with a daily budget (nil for the others), aligned with
    /// `scopes`. Scopes nearly always share one zone: it is looked up once per zone.
    public static func days(for scopes: [QuotaScope], at date: Date) -> [BudgetDay?] {
        var last: (zone: String, day: BudgetDay)?
        return scopes.map { scope in
            guard scope.limits.dailyBudget != nil else { return nil }
            let zone = scope.timeZoneID
            if let last, last.zone == zone { return last.day }
            let day = BudgetDay(containing: date, in: scope.timeZone, zoneID: zone)
            last = (zone, day)
            return day
        }
    }
}
