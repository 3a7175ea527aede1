import Foundation

/// Paces key moves to at most `keysPerSecond` across every stream of a job: a token bucket that fills at the rate
/// and holds at most a quarter of a second's worth (`capacity`). A batch (at most a tenth of a second's worth)
/// takes its keys' tokens, waiting for those it lacks, so the time a stream spends on other steps (opening and
/// closing slots, convergence) counts towards the rate instead of being lost, and idle time never saves up into a
/// burst of more than a quarter second. Over any stretch of T seconds at most rate × T + `capacity` keys leave.
public final class KeyRateLimiter: @unchecked Sendable {
    public let keysPerSecond: Double
    private let clock: @Sendable () -> Double
    private let sleep: @Sendable (Double) -> Void
    private let lock = NSLock()
    /// Tokens in the bucket, negative while batches that already went owe time.
    private var tokens: Double
    private var filledAt: Double?

    public init(keysPerSecond: Int,
                clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime },
                sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.keysPerSecond = Double(max(1, keysPerSecond))
        self.clock = clock
        self.sleep = sleep
        tokens = Double(max(1, Int(self.keysPerSecond / 10)))
    }

    /// The most tokens the bucket holds.
    public var capacity: Int { max(batchLimit, Int(keysPerSecond / 4)) }

    /// The most keys one batch should carry: a tenth of a second's worth.
    public var batchLimit: Int { max(1, Int(keysPerSecond / 10)) }

    /// Waits until `keys` more keys may move; returns the seconds waited.
    @discardableResult
    public func acquire(_ keys: Int) -> Double {
        guard keys > 0 else { return 0 }
        let wait: Double = lock.withLock {
            let now = clock()
            if let filledAt {
                tokens = min(Double(capacity), tokens + (now - filledAt) * keysPerSecond)
            }
            filledAt = now
            tokens -= Double(keys)
            return tokens < 0 ? -tokens / keysPerSecond : 0
        }
        if wait > 0 { sleep(wait) }
        return wait
    }
}
