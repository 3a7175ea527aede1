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

    @Test func idleTimeIsNotSavedUpIntoABurst() {
        let clock = FakeClock()
        let limiter = KeyRateLimiter(keysPerSecond: 100, clock: { clock.now }, sleep: { clock.advance($0) })
        limiter.acquire(10)
        clock.advance(60)
        #expect(limiter.acquire(10) == 0)
        #expect(abs(limiter.acquire(10) - 0.1) < 1e-9)
    }
}
