import Foundation

/// One job's observer shared by the threads of parallel streams (slot moves, a backup's fetches): calls are
/// serialized, and once any stream fails every other stream is told to stop at its next safe point, so the job ends
/// with no slot left open and no file half written.
public final class SynchronizedObserver: OperationObserver, @unchecked Sendable {
    private let inner: any OperationObserver
    private let lock = NSLock()
    private var failed = false

    public init(_ inner: any OperationObserver) {
        self.inner = inner
    }

    /// Runs `body` under the same lock as the observer's calls: for other uses of the object behind it (a job's
    /// reporter also saves its checkpoints).
    public func serialized<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock { try body() }
    }

    public func event(_ message: String, node: String?) {
        lock.withLock { inner.event(message, node: node) }
    }

    public func step(_ name: String) {
        lock.withLock { inner.step(name) }
    }

    public func slotsMoved(_ count: Int, keys: Int) {
        lock.withLock { inner.slotsMoved(count, keys: keys) }
    }

    public func keysLanded(_ keys: Int) {
        lock.withLock { inner.keysLanded(keys) }
    }

    public func keysToMove(_ remaining: Int) {
        lock.withLock { inner.keysToMove(remaining) }
    }

    public func bytesWritten(_ done: Int64, total: Int64?) {
        lock.withLock { inner.bytesWritten(done, total: total) }
    }

    public func slotsFoundMoved(_ slots: Int) {
        lock.withLock { inner.slotsFoundMoved(slots) }
    }

    public func shouldStop() -> Bool {
        lock.withLock { failed || inner.shouldStop() }
    }

    /// A stream failed: the others stop at their next safe point.
    public func streamFailed() {
        lock.withLock { failed = true }
    }
}
