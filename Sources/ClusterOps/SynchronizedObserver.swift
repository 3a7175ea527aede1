import Foundation

/// One job's observer shared by the threads of parallel moves: calls are serialized, and once any stream fails
/// every other stream is told to stop at its next safe point, so the job ends with no slot left open.
final class SynchronizedObserver: OperationObserver, @unchecked Sendable {
    private let inner: any OperationObserver
    private let lock = NSLock()
    private var failed = false

    init(_ inner: any OperationObserver) {
        self.inner = inner
    }

    func event(_ message: String, node: String?) {
        lock.withLock { inner.event(message, node: node) }
    }

    func step(_ name: String) {
        lock.withLock { inner.step(name) }
    }

    func slotsMoved(_ count: Int, keys: Int) {
        lock.withLock { inner.slotsMoved(count, keys: keys) }
    }

    func keysLanded(_ keys: Int) {
        lock.withLock { inner.keysLanded(keys) }
    }

    func keysToMove(_ remaining: Int) {
        lock.withLock { inner.keysToMove(remaining) }
    }

    func bytesWritten(_ done: Int64, total: Int64?) {
        lock.withLock { inner.bytesWritten(done, total: total) }
    }

    func slotsFoundMoved(_ slots: Int) {
        lock.withLock { inner.slotsFoundMoved(slots) }
    }

    func shouldStop() -> Bool {
        lock.withLock { failed || inner.shouldStop() }
    }

    /// A stream failed: the others stop at their next safe point.
    func streamFailed() {
        lock.withLock { failed = true }
    }
}
