import Foundation

/// A calendar day (`YYYY-MM-DD`) in the gateway's time zone: what reports group by and what
/// `--from` and `--to` name. Its instants depend on the zone, so they are computed per zone.
public struct LedgerDay: Sendable, Hashable, Comparable, LosslessStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A valid Gregorian date, or nil (`2025-02-30`).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The day `instant` falls on in `timeZone`.
    public init(containing instant: Date, in timeZone: TimeZone) {
        let components = Self.calendar(timeZone).dateComponents([.year, .month, .day], from: instant)
        self.year = components.year ?? 1970
        self.month = components.month ?? 1
        self.day = components.day ?? 1
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", self.year, self.month, self.day)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// The following day.
    public var next: LedgerDay {
        if self.day < Self.daysIn(month: self.month, year: self.year) {
            return LedgerDay(uncheckedYear: self.year, month: self.month, day: self.day + 1)
        }
        if self.month < 12 { return LedgerDay(uncheckedYear: self.year, month: self.month + 1, day: 1) }
        return LedgerDay(uncheckedYear: self.year + 1, month: 1, day: 1)
    }

    /// The day before.
    public var previous: LedgerDay {
        if self.day > 1 { return LedgerDay(uncheckedYear: self.year, month: self.month, day: self.day - 1) }
        if self.month > 1 {
            return LedgerDay(uncheckedYear: self.year, month: self.month - 1, day: Self.daysIn(month: self.month - 1, year: self.year))
        }
        return LedgerDay(uncheckedYear: self.year - 1, month: 12, day: 31)
    }

    /// Days since the last Monday (0 on a Monday, 6 on a Sunday), from the date alone.
    public var daysSinceMonday: Int {
        // Sakamoto's method: 0 is Sunday.
        let offsets = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
        let year = self.month < 3 ? self.year - 1 : self.year
        let sunday0 = (year + year / 4 - year / 100 + year / 400 + offsets[self.month - 1] + self.day) % 7
        return (sunday0 + 6) % 7
    }

    /// The Monday of the day's week (ISO 8601 weeks start on Monday).
    public var weekStart: LedgerDay {
        var day = self
        for _ in 0..<self.daysSinceMonday { day = day.previous }
        return day
    }

    /// The first instant of the day in `timeZone`: local midnight, or the first time that
    /// exists when a DST change skips midnight. Days are 23, 24 or 25 hours long.
    public func start(in timeZone: TimeZone) -> Date {
        let calendar = Self.calendar(timeZone)
        let noon = calendar.date(from: DateComponents(year: self.year, month: self.month, day: self.day, hour: 12))!
        return calendar.startOfDay(for: noon)
    }

    /// `start(in:)` in milliseconds since 1970.
    public func startMs(in timeZone: TimeZone) -> Int64 {
        LedgerEntry.milliseconds(self.start(in: timeZone))
    }

    // MARK: - Private

    private init(uncheckedYear year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
