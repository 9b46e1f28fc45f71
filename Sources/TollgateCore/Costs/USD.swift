import Foundation

/// An amount of US dollars held as whole nanodollars, so that sums over millions of ledger
/// rows and budget counters shared through Redis never drift the way floating point does.
public struct USD: Sendable, Hashable, Comparable, AdditiveArithmetic, CustomStringConvertible {
    public var nanos: Int64

    public init(nanos: Int64) { self.nanos = nanos }

    /// Rounds to the nearest nanodollar.
    public init(dollars: Double) {
        self.nanos = Int64((dollars * 1e9).rounded())
    }

    public static let zero = USD(nanos: 0)

    public var dollars: Double { Double(self.nanos) / 1e9 }

    public static func + (lhs: USD, rhs: USD) -> USD { USD(nanos: lhs.nanos &+ rhs.nanos) }
    public static func - (lhs: USD, rhs: USD) -> USD { USD(nanos: lhs.nanos &- rhs.nanos) }
    public static func < (lhs: USD, rhs: USD) -> Bool { lhs.nanos < rhs.nanos }

    /// Six decimals, the precision of `X-Tollgate-Cost-USD` and reports (e.g. `0.000125`).
    public var description: String {
        let micros = (self.nanos >= 0 ? self.nanos + 500 : self.nanos - 500) / 1000
        let sign = micros < 0 ? "-" : ""
        let magnitude = micros.magnitude
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}
