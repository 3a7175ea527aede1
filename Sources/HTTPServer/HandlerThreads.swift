import Foundation
import Synchronization

/// Decides how many handler threads wait on the connections' epoll. About one per core serves best: more of them
/// only contend for the same events. But a handler may block (on a database, on a remote server), so when every
/// active thread has been inside one handler for a while the loop activates a spare, up to `handlerThreads`; a
/// surplus thread goes back to being a spare once it is done.
final class HandlerThreads: @unchecked Sendable {
    /// How long all active threads must go without finishing anything before they count as blocked.
    static let stuckAfter = Duration.milliseconds(20)

    /// Every handler thread, active or spare.
    let total: Int
    /// How many are active while no handler blocks.
    let target: Int
    /// Threads inside an event or job right now.
    private let serving = Atomic<Int>(0)
    /// When a thread last finished an event or job, in nanoseconds of the monotonic clock.
    private let lastProgress = Atomic<UInt64>(0)
    /// Threads that may wait on epoll (waiting there or serving). Changed only with `condition` locked; read without
    /// it on the path every request takes.
    private let active = Atomic<Int>(0)

    // Everything below is only touched with `condition` locked, which is what makes the class safe to share.
    private let condition = NSCondition()
    /// Wake-ups handed to spares and not yet taken.
    private var activations = 0
    private var spares = 0
    private var stopped = false

    init(total: Int) {
        self.total = total
        target = min(total, max(2, ProcessInfo.processInfo.activeProcessorCount))
        lastProgress.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// At start: whether the calling thread begins active, or waits as a spare first.
    func enlist() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if active.load(ordering: .relaxed) < target {
            active.add(1, ordering: .relaxed)
            return true
        }
        return waitAsSpare()
    }

    func beginServing() {
        serving.add(1, ordering: .relaxed)
    }

    /// After an event or job: false if the thread is to stop. A thread beyond what is needed waits as a spare.
    func endServing() -> Bool {
        lastProgress.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        serving.subtract(1, ordering: .relaxed)
        guard active.load(ordering: .relaxed) > target else { return true }
        condition.lock()
        defer { condition.unlock() }
        // Threads still stuck in handlers don't count: the free ones must number at least `target`.
        guard active.load(ordering: .relaxed) - serving.load(ordering: .relaxed) > target else { return !stopped }
        active.subtract(1, ordering: .relaxed)
        return waitAsSpare()
    }

    /// Loop thread, every tick while requests are in flight: activates a spare if all active threads are blocked.
    func supervise() {
        guard serving.load(ordering: .relaxed) > 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let stuckAfter = UInt64(Self.stuckAfter / .nanoseconds(1))
        guard now - min(now, lastProgress.load(ordering: .relaxed)) > stuckAfter else { return }
        condition.lock()
        defer { condition.unlock() }
        guard serving.load(ordering: .relaxed) >= active.load(ordering: .relaxed), spares > activations else { return }
        activations += 1
        active.add(1, ordering: .relaxed)
        condition.signal()
    }

    var isServing: Bool {
        serving.load(ordering: .relaxed) > 0
    }

    /// Spares exit; active threads are stopped through epoll.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// With `condition` locked: parks until activated (true) or stopped (false).
    private func waitAsSpare() -> Bool {
        spares += 1
        defer { spares -= 1 }
        while activations == 0, !stopped {
            condition.wait()
        }
        guard !stopped else { return false }
        activations -= 1
        return true
    }
}
