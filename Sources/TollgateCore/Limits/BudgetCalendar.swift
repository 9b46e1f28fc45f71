import Foundation

/// Daily budgets reset at local midnight in their time zone. A budget day is named by its
/// local date (`2026-11-29`), which is also part of its Redis key, so every gateway process
/// agrees on it without coordination.
public struct BudgetDay: Sendable, Hashable {
    public var name: String
    /// The next local midnight: when this day's budget resets.
    public var resetsAt: Date

    public init(containing date: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        self.name = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        let start = calendar.startOfDay(for: date)
        self.resetsAt = calendar.date(byAdding: .day, value: 1, to: start) ?? date.addingTimeInterval(86_400)
    }
}
