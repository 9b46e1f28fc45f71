import Testing
@testable import TollgateCore

@Suite struct GCRATests {
    @Test func admitsABurstOfTheLimitThenOneEveryInterval() {
        var tat = 0.0
        let now = 1_000.0
        for index in 0..<10 {
            let outcome = GCRA.attempt(tat: tat, now: now, quantity: 1, limit: 10, period: 60)
            #expect(outcome.allowed, "request \(index) of the burst")
            #expect(outcome.remaining == 9 - index)
            tat = outcome.newTAT
        }
        let denied = GCRA.attempt(tat: tat, now: now, quantity: 1, limit: 10, period: 60)
        #expect(!denied.allowed)
        #expect(abs(denied.retryAfter - 6) < 1e-6)
        #expect(GCRA.attempt(tat: tat, now: now + 5.9, quantity: 1, limit: 10, period: 60).allowed == false)
        #expect(GCRA.attempt(tat: tat, now: now + 6, quantity: 1, limit: 10, period: 60).allowed)
    }

    @Test func neverAdmitsTwiceTheLimitAcrossAMinuteBoundary() {
        // Fixed windows admit `limit` at 59.9 s and again at 60.1 s. GCRA admits at most the
        // limit plus what refilled in between.
        var tat = 0.0
        var admitted = 0
        for step in 0..<200 {
            let now = 59.0 + Double(step) * 0.01  // 2 seconds around the boundary
            let outcome = GCRA.attempt(tat: tat, now: now, quantity: 1, limit: 100, period: 60)
            if outcome.allowed {
                admitted += 1
                tat = outcome.newTAT
            }
        }
        #expect(admitted <= 100 + 4)
    }

    @Test func weightedClaimsAndRefunds() {
        let first = GCRA.attempt(tat: 0, now: 100, quantity: 600, limit: 1000, period: 60)
        #expect(first.allowed && first.remaining == 400)
        let tooMany = GCRA.attempt(tat: first.newTAT, now: 100, quantity: 500, limit: 1000, period: 60)
        #expect(!tooMany.allowed && tooMany.remaining == 400)
        // The request really used 100 of its 600: 500 come back.
        let refunded = GCRA.refund(tat: first.newTAT, quantity: 500, limit: 1000, period: 60)
        #expect(GCRA.attempt(tat: refunded, now: 100, quantity: 500, limit: 1000, period: 60).allowed)
    }

    @Test func aClaimLargerThanTheLimitCanNeverFit() {
        let outcome = GCRA.attempt(tat: 0, now: 0, quantity: 2000, limit: 1000, period: 60)
        #expect(!outcome.allowed && outcome.retryAfter.isInfinite)
    }
}
