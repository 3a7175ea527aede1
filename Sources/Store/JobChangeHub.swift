import Foundation

/// Delivers `JobChange`s to subscribers after each committed write. Handlers run on the writing thread, after its
/// transaction committed, so they must be quick: hand the change to a queue, answer a parked request, and return.
public final class JobChangeHub: @unchecked Sendable {
    public struct Subscription: Hashable, Sendable {
        fileprivate let id: UInt64
        fileprivate let jobId: Int64?
    }

    public typealias Handler = @Sendable (JobChange) -> Void

    // Guarded by `lock`.
    private let lock = NSLock()
    private var nextId: UInt64 = 0
    private var byJob: [Int64: [UInt64: Handler]] = [:]
    private var everything: [UInt64: Handler] = [:]

    public init() {}

    /// `jobId` nil subscribes to every job's changes.
    public func subscribe(jobId: Int64?, _ handler: @escaping Handler) -> Subscription {
        lock.lock()
        defer { lock.unlock() }
        nextId += 1
        if let jobId {
            byJob[jobId, default: [:]][nextId] = handler
        } else {
            everything[nextId] = handler
        }
        return Subscription(id: nextId, jobId: jobId)
    }

    public func unsubscribe(_ subscription: Subscription) {
        lock.lock()
        defer { lock.unlock() }
        if let jobId = subscription.jobId {
            byJob[jobId]?[subscription.id] = nil
            if byJob[jobId]?.isEmpty == true { byJob[jobId] = nil }
        } else {
            everything[subscription.id] = nil
        }
    }

    /// How many subscriptions are live: parked waits, streams, running jobs and the worker.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return everything.count + byJob.values.reduce(0) { $0 + $1.count }
    }

    func post(_ changes: [JobChange]) {
        guard !changes.isEmpty else { return }
        for change in changes {
            lock.lock()
            let handlers = Array(everything.values) + Array((byJob[change.jobId] ?? [:]).values)
            lock.unlock()
            for handler in handlers { handler(change) }
        }
    }
}
