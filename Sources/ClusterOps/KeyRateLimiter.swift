import Foundation

/// Paces key moves to at most `keysPerSecond`, across every stream of a job: each batch reserves its share of
/// time and waits for its turn, so the rate holds over the whole move however many sources send at once. The
/// first batch goes at once; after that, n keys never leave sooner than n / rate seconds after the keys before them.
public final class KeyRateLimiter: @unchecked Sendable {
    public let keysPerSecond: Double
    private let clock: @Sendable () -> Double
    private let sleep: @Sendable (Double) -> Void
    private let lock = NSLock()
    private var nextFree: Double?

    public init(keysPerSecond: Int,
                clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime },
                sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.keysPerSecond = Double(max(1, keysPerSecond))
        self.clock = clock
        self.sleep = sleep
    }

    /// The most keys one batch should carry: a tenth of a second's worth, so pacing stays smooth.
    public var batchLimit: Int { max(1, Int(keysPerSecond / 10)) }

    /// Waits until `keys` more keys may move; returns the seconds waited.
    @discardableResult
    public func acquire(_ keys: Int) -> Double {
        guard keys > 0 else { return 0 }
        let wait: Double = lock.withLock {
            let now = clock()
            let start = max(nextFree ?? now, now)
            nextFree = start + Double(keys) / keysPerSecond
            return start - now
        }
        if wait > 0 { sleep(wait) }
        return wait
    }
}
