import ClusterOps
import Foundation
import Testing

/// The throttle's schedule, on a clock the test drives: no real time passes.
@Suite struct KeyRateLimiterTests {
    final class FakeClock: @unchecked Sendable {
        private let lock = NSLock()
        private var time = 100.0
        var now: Double { lock.withLock { time } }
        func advance(_ seconds: Double) { lock.withLock { time += seconds } }
    }

    @Test func keysNeverLeaveFasterThanTheRate() {
        let clock = FakeClock()
        let limiter = KeyRateLimiter(keysPerSecond: 1000, clock: { clock.now }, sleep: { clock.advance($0) })
        let start = clock.now
        var sent = 0
        while sent < 100_000 {
            let batch = min(limiter.batchLimit, 100_000 - sent)
            limiter.acquire(batch)
            sent += batch
        }
        // The first batch goes at once; every later one waits for the keys before it.
        let elapsed = clock.now - start
        #expect(limiter.batchLimit == 100)
        #expect(abs(elapsed - (100_000 - 100) / 1000.0) < 1e-6)
    }

    @Test func idleTimeSavesUpAQuarterSecondAtMost() {
        let clock = FakeClock()
        let limiter = KeyRateLimiter(keysPerSecond: 100, clock: { clock.now }, sleep: { clock.advance($0) })
        #expect(limiter.capacity == 25)
        limiter.acquire(10)
        clock.advance(60)
        #expect(limiter.acquire(10) == 0)
        #expect(limiter.acquire(10) == 0)
        #expect(abs(limiter.acquire(10) - 0.05) < 1e-9)
    }

    @Test func timeSpentOnOtherStepsCountsTowardsTheRate() {
        // A stream that works 40 ms between batches of 100 keys at 1000 keys/s: the throttle tops each gap up to
        // the batch's 100 ms instead of adding its 100 ms to the 40.
        let clock = FakeClock()
        let limiter = KeyRateLimiter(keysPerSecond: 1000, clock: { clock.now }, sleep: { clock.advance($0) })
        let start = clock.now
        for _ in 0..<100 {
            limiter.acquire(100)
            clock.advance(0.04)
        }
        let elapsed = clock.now - start
        #expect(elapsed > 9.9 && elapsed < 10.0, "\(elapsed)")
    }

    @Test func streamsSharingTheLimiterShareTheRate() {
        let clock = FakeClock()
        let limiter = KeyRateLimiter(keysPerSecond: 1000, clock: { clock.now }, sleep: { _ in })
        // Two streams asking at the same instant: the second owes the first one's time.
        #expect(limiter.acquire(100) == 0)
        #expect(abs(limiter.acquire(100) - 0.1) < 1e-9)
        #expect(abs(limiter.acquire(100) - 0.2) < 1e-9)
    }
}
