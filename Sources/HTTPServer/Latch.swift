import Foundation

/// A one-way gate: threads wait until it opens, and pass at once afterwards.
final class Latch: @unchecked Sendable {
    // `isOpen` is only touched with `condition` locked, which is what makes the class safe to share.
    private let condition = NSCondition()
    private var isOpen = false

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    func wait() {
        condition.lock()
        while !isOpen {
            condition.wait()
        }
        condition.unlock()
    }

    /// Whether the latch opened before `deadline`.
    func wait(until deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !isOpen {
            if !condition.wait(until: deadline) {
                return isOpen
            }
        }
        return true
    }
}
