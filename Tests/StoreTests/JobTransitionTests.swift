import Foundation
import Store
import Testing

/// Job status changes are guarded transitions on a real SQLite file: each one says which status it expects, and
/// a change that lost a race is refused, never written over.
@Suite struct JobTransitionTests {
    let store: Store
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("store-test-\(UUID().uuidString).sqlite").path
        store = try Store(path: path)
        try store.insertCluster(ClusterRecord(id: "c", seeds: ["127.0.0.1:7000"], username: nil, password: nil,
                                              createdAt: Timestamp.now(), updatedAt: Timestamp.now()))
    }

    func queued() throws -> JobRecord {
        try store.insertJob(clusterId: "c", type: "reshard", params: "{}", actor: "anonymous")
    }

    @Test func startFixesThePlanOnceAndOnlyFromQueued() throws {
        let job = try queued()
        let started = try #require(try store.startJob(jobId: job.id, plan: #"{"summary":"x"}"#, slotsTotal: 7, snapshotBefore: nil))
        #expect(started.status == .running)
        #expect(started.plan == #"{"summary":"x"}"#)
        #expect(started.slotsTotal == 7)
        #expect(started.startedAt != nil)
        // A second start (a second worker, or a resumed one) changes nothing.
        #expect(try store.startJob(jobId: job.id, plan: #"{"summary":"y"}"#, slotsTotal: 9, snapshotBefore: nil) == nil)
        #expect(try store.job(job.id)?.plan == #"{"summary":"x"}"#)
    }

    @Test func aCancelledJobNeverStarts() throws {
        let job = try queued()
        #expect(try store.requestCancel(jobId: job.id)?.status == .cancelled)
        #expect(try store.startJob(jobId: job.id, plan: "{}", slotsTotal: 0, snapshotBefore: nil) == nil)
        #expect(try store.job(job.id)?.status == .cancelled)
        #expect(try store.job(job.id)?.startedAt == nil)
    }

    @Test func finishingFromTheWrongStatusIsRefused() throws {
        let job = try queued()
        #expect(throws: StoreError.statusChanged(job: job.id, expected: [.running], actual: .queued)) {
            try store.finishJob(jobId: job.id, from: .running, to: .succeeded)
        }
        _ = try store.startJob(jobId: job.id, plan: "{}", slotsTotal: 0, snapshotBefore: nil)
        try store.finishJob(jobId: job.id, from: .running, to: .succeeded)
        #expect(throws: StoreError.statusChanged(job: job.id, expected: [.running], actual: .succeeded)) {
            try store.finishJob(jobId: job.id, from: .running, to: .failed, errorCode: "x", errorMessage: "y")
        }
        #expect(try store.job(job.id)?.status == .succeeded)
        #expect(try store.job(job.id)?.errorCode == nil)
        // Progress is only recorded for a running job.
        #expect(throws: StoreError.self) {
            try store.updateProgress(jobId: job.id, step: "late", slotsDone: 1, keysMoved: 1)
        }
    }

    @Test func cancellingARunningJobOnlyFlagsIt() throws {
        let job = try queued()
        _ = try store.startJob(jobId: job.id, plan: "{}", slotsTotal: 0, snapshotBefore: nil)
        let flagged = try #require(try store.requestCancel(jobId: job.id))
        #expect(flagged.status == .running)
        #expect(flagged.cancelRequested)
        try store.finishJob(jobId: job.id, from: .running, to: .cancelled)
        #expect(try store.requestCancel(jobId: job.id)?.status == .cancelled)
    }

    /// The race the API and the worker run on every job: cancel and start at the same moment. Exactly one wins,
    /// and a job answered as cancelled never ran.
    @Test func cancelAndStartRaceHasOneWinner() throws {
        var cancelledWins = 0
        var startWins = 0
        for _ in 0..<300 {
            let job = try queued()
            let gate = DispatchGroup()
            let results = RaceResults()
            for side in 0..<2 {
                gate.enter()
                DispatchQueue.global().async {
                    defer { gate.leave() }
                    if side == 0 {
                        results.set(cancel: try? store.requestCancel(jobId: job.id))
                    } else {
                        results.set(start: try? store.startJob(jobId: job.id, plan: "{}", slotsTotal: 0, snapshotBefore: nil))
                    }
                }
            }
            gate.wait()
            let final = try #require(try store.job(job.id))
            if results.cancel?.status == .cancelled {
                cancelledWins += 1
                #expect(results.start == nil, "job \(job.id) was answered cancelled and also started")
                #expect(final.status == .cancelled && final.startedAt == nil)
            } else {
                startWins += 1
                #expect(results.start != nil)
                #expect(final.status == .running && final.cancelRequested)
            }
        }
        #expect(cancelledWins + startWins == 300)
    }

    @Test func committedChangesReachSubscribersInOrder() throws {
        let seen = Seen()
        let job = try queued()
        let subscription = store.changes.subscribe(jobId: job.id) { seen.append($0) }
        let everything = store.changes.subscribe(jobId: nil) { _ in seen.countAll() }
        _ = try store.startJob(jobId: job.id, plan: "{}", slotsTotal: 4, snapshotBefore: nil)
        try store.appendEvent(jobId: job.id, message: "moved")
        try store.updateProgress(jobId: job.id, step: "moving", slotsDone: 4, keysMoved: 10)
        try store.finishJob(jobId: job.id, from: .running, to: .succeeded)
        let other = try queued()
        try store.appendEvent(jobId: other.id, message: "not mine")
        store.changes.unsubscribe(subscription)
        store.changes.unsubscribe(everything)
        try store.appendEvent(jobId: job.id, message: "after unsubscribing")

        let descriptions = seen.changes.map { change -> String in
            switch change {
            case .job(let record): "job \(record.status.rawValue) \(record.slotsDone)"
            case .event(let event): "event \(event.message)"
            }
        }
        #expect(descriptions == ["job running 0", "event moved", "job running 4", "job succeeded 4"])
        // 4 for the job's own subscription, 6 for the one to every job (the other job's insert and event too).
        #expect(seen.all == 10)
        #expect(store.changes.count == 0)
    }

    @Test func aFailedWriteIsRolledBackAndNotPosted() throws {
        let seen = Seen()
        let subscription = store.changes.subscribe(jobId: nil) { seen.append($0) }
        defer { store.changes.unsubscribe(subscription) }
        #expect(throws: StoreError.clusterNotFound("missing")) {
            try store.insertJob(clusterId: "missing", type: "fix", params: "{}", actor: "a")
        }
        #expect(seen.changes.isEmpty)
        #expect(try store.jobs(JobFilter(clusterId: "missing")).isEmpty)
    }
}

private final class RaceResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var cancel: JobRecord?
    private(set) var start: JobRecord?

    func set(cancel value: JobRecord?) { lock.lock(); cancel = value; lock.unlock() }
    func set(start value: JobRecord?) { lock.lock(); start = value; lock.unlock() }
}

private final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [JobChange] = []
    private var total = 0

    func append(_ change: JobChange) { lock.lock(); list.append(change); total += 1; lock.unlock() }
    func countAll() { lock.lock(); total += 1; lock.unlock() }
    var changes: [JobChange] { lock.lock(); defer { lock.unlock() }; return list }
    var all: Int { lock.lock(); defer { lock.unlock() }; return total }
}
