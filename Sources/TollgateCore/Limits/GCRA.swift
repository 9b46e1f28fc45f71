/// The generic cell rate algorithm: an exact, continuously refilling limit of `limit` units
/// per `period`, with bursts of at most `limit`. State is one number, the theoretical arrival
/// time (TAT) at which the subject would be back to a full allowance. Unlike fixed windows
/// it never admits 2x the limit across a window boundary. The Redis script mirrors this.
public enum GCRA {
    public struct Outcome: Sendable, Equatable {
        public var allowed: Bool
        /// The TAT to store when `allowed`.
        public var newTAT: Double
        /// Units still available right after this attempt (before it when denied).
        public var remaining: Int
        /// Seconds until the allowance is full again.
        public var resetAfter: Double
        /// Seconds until this attempt would fit; 0 when allowed, infinity when it never can.
        public var retryAfter: Double
    }

    /// Tries to take `quantity` units at time `now` (seconds).
    public static func attempt(tat: Double, now: Double, quantity: Int, limit: Int, period: Double) -> Outcome {
        let interval = period / Double(limit)
        let base = max(tat, now)
        let newTAT = base + Double(quantity) * interval
        if quantity > limit {
            return Outcome(allowed: false, newTAT: tat, remaining: self.remaining(base - now, interval, period, limit), resetAfter: base - now, retryAfter: .infinity)
        }
        if newTAT - now > period + 1e-9 {
            return Outcome(
                allowed: false, newTAT: tat, remaining: self.remaining(base - now, interval, period, limit),
                resetAfter: base - now, retryAfter: newTAT - now - period
            )
        }
        return Outcome(allowed: true, newTAT: newTAT, remaining: self.remaining(newTAT - now, interval, period, limit), resetAfter: newTAT - now, retryAfter: 0)
    }

    /// Gives back units taken but not used (a reservation larger than the actual count);
    /// a negative `quantity` charges units used beyond the reservation.
    public static func refund(tat: Double, quantity: Int, limit: Int, period: Double) -> Double {
        tat - Double(quantity) * (period / Double(limit))
    }

    static func remaining(_ used: Double, _ interval: Double, _ period: Double, _ limit: Int) -> Int {
        min(limit, max(0, Int(((period - used) / interval + 1e-9).rounded(.down))))
    }
}
