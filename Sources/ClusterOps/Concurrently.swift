import Foundation

/// Runs `body` for every item on its own thread and returns the results in input order. Node round trips are
/// network-bound, so a thread per node (in batches) beats a core-sized pool.
func concurrently<Item: Sendable, Result: Sendable>(_ items: [Item], batch: Int = 64,
                                                    _ body: @escaping @Sendable (Item) -> Result) -> [Result] {
    let results = ResultSlots<Result>(count: items.count)
    var start = 0
    while start < items.count {
        let end = min(start + batch, items.count)
        let group = DispatchGroup()
        for index in start..<end {
            group.enter()
            let item = items[index]
            let thread = Thread {
                results.set(index, body(item))
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        start = end
    }
    return results.values()
}

/// Result slots written by worker threads; the lock guards `slots`.
private final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func values() -> [Value] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
