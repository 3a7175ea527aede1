import Foundation

/// The bounded set of threads that run handlers and interruption callbacks. A handler may block (on SQLite, on
/// Redis); it then holds one of these threads, never the event loop, and never a thread per connection.
final class HandlerPool: @unchecked Sendable {
    enum Job {
        /// Runs the handler for a request; the connection is owned by whichever thread takes the job.
        case serve(Connection, HTTPRequest)
        case run(@Sendable () -> Void)
    }

    /// Room for handlers that build sizable values; only touched pages are committed.
    private static let threadStackSize = 4 << 20

    // Everything below is only touched with `condition` locked, which is what makes the class safe to share.
    private let condition = NSCondition()
    /// A queue as an array and a read index, so taking a job doesn't shift the array.
    private var jobs: [Job] = []
    private var next = 0
    private var waiting = 0
    private var stopping = false

    init(threads: Int) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in work() }
            thread.name = "http-handler-\(index)"
            thread.stackSize = Self.threadStackSize
            thread.start()
        }
    }

    func submit(_ job: Job) {
        condition.lock()
        jobs.append(job)
        let wake = waiting > 0
        condition.unlock()
        if wake {
            condition.signal()
        }
    }

    /// The threads finish the queued jobs, then exit.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while let job = take() {
            switch job {
            case .serve(let connection, let request): connection.serve(request)
            case .run(let body): body()
            }
        }
    }

    private func take() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while next == jobs.count {
            if stopping {
                return nil
            }
            waiting += 1
            condition.wait()
            waiting -= 1
        }
        let job = jobs[next]
        next += 1
        if next == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            next = 0
        } else if next >= 1024, next * 2 >= jobs.count {
            jobs.removeFirst(next)
            next = 0
        }
        return job
    }
}
