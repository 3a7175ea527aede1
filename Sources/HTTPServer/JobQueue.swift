import Synchronization

/// Work for the handler threads that doesn't come from epoll: requests pipelined behind a deferred answer, and
/// interruption callbacks. The threads wait on the connections' epoll, so a job is announced through an eventfd
/// registered there, readable while jobs are queued.
final class JobQueue: Sendable {
    enum Job: Sendable {
        /// Runs the handler for a request; the thread that takes the job has the connection's claim.
        case serve(Connection, HTTPRequest)
        case run(@Sendable () -> Void)
    }

    /// A queue as an array and a read index, so taking a job doesn't shift the array.
    private struct Queue {
        var jobs: [Job] = []
        var next = 0
    }

    let announcer: EventFD
    private let queue = Mutex(Queue())

    init(announcer: EventFD) {
        self.announcer = announcer
    }

    func submit(_ job: Job) {
        queue.withLock { queue in
            queue.jobs.append(job)
            // Signalled under the lock, so it can't cross with `take` draining the last job.
            if queue.jobs.count - queue.next == 1 {
                announcer.signal()
            }
        }
    }

    /// The oldest job, if any; the announcement is withdrawn with the last one.
    func take() -> Job? {
        queue.withLock { queue in
            guard queue.next < queue.jobs.count else { return nil }
            let job = queue.jobs[queue.next]
            queue.next += 1
            if queue.next == queue.jobs.count {
                queue.jobs.removeAll(keepingCapacity: true)
                queue.next = 0
                announcer.drain()
            }
            return job
        }
    }
}
