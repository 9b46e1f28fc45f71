import Foundation

/// An amount of US dollars held as whole nanodollars, so that sums over millions of ledger
/// rows and budget counters shared through Redis never drift the way floating point does.
public struct USD: Sendable, Hashable, Comparable, AdditiveArithmetic, CustomStringConvertible {
    public var nanos: Int64

    public init(nanos: Int64) { self.nanos = nanos }

    /// Rounds to the nearest nanodollar; saturates beyond about ±9.2 billion dollars.
    public init(dollars: Double) {
        self.init(saturating: (dollars * 1e9).rounded())
    }

    /// Nanodollars from a computed amount, clamped to what `Int64` holds (NaN is zero): costs
    /// are computed from client- and provider-supplied token counts and must never trap.
    public init(saturating nanos: Double) {
        if nanos.isNaN {
            self.nanos = 0
        } else if nanos >= 9.2e18 {
            self.nanos = .max
        } else if nanos <= -9.2e18 {
            self.nanos = .min
        } else {
            self.nanos = Int64(nanos)
        }
    }

    public static let zero = USD(nanos: 0)

    public var dollars: Double { Double(self.nanos) / 1e9 }

    /// Saturating: a sum too large to hold stays at the maximum instead of wrapping negative
    /// (a wrapped reservation would pass every budget check).
    public static func + (lhs: USD, rhs: USD) -> USD {
        let (sum, overflow) = lhs.nanos.addingReportingOverflow(rhs.nanos)
        return USD(nanos: overflow ? (rhs.nanos > 0 ? .max : .min) : sum)
    }

    public static func - (lhs: USD, rhs: USD) -> USD {
        let (difference, overflow) = lhs.nanos.subtractingReportingOverflow(rhs.nanos)
        return USD(nanos: overflow ? (rhs.nanos < 0 ? .max : .min) : difference)
    }
    public static func < (lhs: USD, rhs: USD) -> Bool { lhs.nanos < rhs.nanos }

    /// Six decimals, the precision of `X-Tollgate-Cost-USD` and reports (e.g. `0.000125`).
    public var description: String {
        let sign = self.nanos < 0 ? "-" : ""
        let micros = (self.nanos.magnitude / 500 + 1) / 2  // rounded half up, no overflow
        let fraction = String(micros % 1_000_000)
        return "\(sign)\(micros / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}
