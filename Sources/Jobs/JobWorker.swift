import ClusterModel
import ClusterOps
import Foundation
import RESP
import Store

/// Runs queued jobs: at most one per cluster, clusters side by side, each job on its own thread. Jobs found
/// running at start-up were interrupted by a crash and are resumed from the cluster's live state.
public final class JobWorker: @unchecked Sendable {
    let store: Store
    let settings: ConnectionSettings
    let log: @Sendable (String) -> Void

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var busyClusters = Set<String>()
    private var stopping = false
    private var started = false

    public init(store: Store, settings: ConnectionSettings = ConnectionSettings(), log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.settings = settings
        self.log = log
    }

    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        let thread = Thread { [self] in dispatchLoop() }
        thread.name = "job-dispatcher"
        thread.start()
    }

    /// Something changed (a job was queued or cancelled): look at the queue now.
    public func wake() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    public var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Stops taking jobs and asks running ones to stop at their next safe point; they stay `running` in the
    /// store and resume on the next start. Returns when they have stopped or `timeout` passed.
    public func stop(timeout: Double = 5) {
        condition.lock()
        stopping = true
        condition.broadcast()
        let deadline = Date().addingTimeInterval(timeout)
        while !busyClusters.isEmpty && Date() < deadline {
            condition.wait(until: min(deadline, Date().addingTimeInterval(0.1)))
        }
        condition.unlock()
    }

    /// Blocks until the job has finished or `timeout` seconds pass (or the worker stops); returns it as it stands.
    public func wait(forJob id: Int64, timeout: Double) -> JobRecord? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let job = try? store.job(id) else { return nil }
            if job.status.isFinished || Date() >= deadline || isStopping { return job }
            condition.lock()
            condition.wait(until: min(deadline, Date().addingTimeInterval(0.5)))
            condition.unlock()
        }
    }

    // MARK: - Dispatch

    private func dispatchLoop() {
        while !isStopping {
            dispatch()
            condition.lock()
            if !stopping { condition.wait(until: Date().addingTimeInterval(1)) }
            condition.unlock()
        }
    }

    private func dispatch() {
        let jobs: [JobRecord]
        do {
            jobs = try store.unfinishedJobs()
        } catch {
            log("job queue unreadable: \(error)")
            return
        }
        var headOfQueue = Set<String>()
        for job in jobs where headOfQueue.insert(job.clusterId).inserted {
            condition.lock()
            let claimed = !stopping && busyClusters.insert(job.clusterId).inserted
            condition.unlock()
            guard claimed else { continue }
            let thread = Thread { [self] in
                run(job)
                condition.lock()
                busyClusters.remove(job.clusterId)
                condition.broadcast()
                condition.unlock()
            }
            thread.name = "job-\(job.id)"
            thread.stackSize = 1 << 22
            thread.start()
        }
    }

    // MARK: - One job

    private func run(_ job: JobRecord) {
        guard let type = JobType(rawValue: job.type) else {
            finish(job.id, .failed, code: "unknown_type", message: "unknown job type \(job.type)", snapshotAfter: nil)
            return
        }
        guard let cluster = try? store.cluster(job.clusterId) else {
            finish(job.id, .failed, code: "unknown_cluster", message: "cluster \(job.clusterId) is no longer registered", snapshotAfter: nil)
            return
        }
        let params: JobParams
        do {
            params = try StoredParams.decode(type: type, text: job.params)
        } catch {
            finish(job.id, .failed, code: "bad_params", message: "stored params unreadable: \(error)", snapshotAfter: nil)
            return
        }
        let session = ClusterSession(access: settings.access(for: cluster))
        defer { session.close() }

        let plan: JobPlan
        let resuming = job.status == .running
        if resuming, let stored = job.plan.flatMap({ try? JSONText.decode(JobPlan.self, from: $0) }) {
            plan = stored
            try? store.appendEvent(jobId: job.id, level: "warning", message: "resuming after an interruption, from the cluster's current state")
            log("job \(job.id) (\(job.type) on \(job.clusterId)) resuming")
        } else {
            let (topology, _) = session.topology()
            let before = snapshot(cluster.id, topology, reason: "job-before", jobId: job.id)
            try? store.markRunning(jobId: job.id, snapshotBefore: before)
            do {
                plan = try JobPlanner.plan(params, topology: topology, seeds: cluster.seeds)
            } catch {
                try? store.appendEvent(jobId: job.id, level: "error", message: "planning failed: \(error)")
                finish(job.id, .failed, code: error.code, message: error.description, snapshotAfter: before)
                return
            }
            try? store.setPlan(jobId: job.id, plan: (try? JSONText.string(plan)) ?? "null")
            try? store.appendEvent(jobId: job.id, message: "started: \(plan.summary)")
            log("job \(job.id) (\(job.type) on \(job.clusterId)) started: \(plan.summary)")
        }

        let reporter = JobReporter(store: store, job: job, slotsTotal: plan.slotsTotal, isShuttingDown: { [self] in isStopping })
        reporter.save()
        let options = MigrationOptions(replace: params.replace)
        do {
            let outcome = try JobExecutor(session: session, reporter: reporter, options: options).run(params, plan: plan)
            if outcome == .stopped && reporter.stopReason == .shutdown {
                try? store.appendEvent(jobId: job.id, level: "warning", message: "service stopping: job paused at a safe point, resumes on restart")
                return
            }
            let (topology, _) = session.topology()
            let after = snapshot(cluster.id, topology, reason: "job-after", jobId: job.id)
            if outcome == .stopped {
                try? store.appendEvent(jobId: job.id, message: "cancelled at a safe point: no slot is open")
                finish(job.id, .cancelled, code: nil, message: nil, snapshotAfter: after)
            } else {
                updateSeeds(cluster, topology)
                try? store.appendEvent(jobId: job.id, message: "succeeded")
                finish(job.id, .succeeded, code: nil, message: nil, snapshotAfter: after)
            }
        } catch {
            if isStopping, case .redis = error {
                // A shutdown that cut a command short: the job resumes on restart.
                return
            }
            try? store.appendEvent(jobId: job.id, level: "error", message: error.description)
            let (topology, _) = session.topology()
            let after = snapshot(cluster.id, topology, reason: "job-after", jobId: job.id)
            finish(job.id, .failed, code: error.code, message: error.description, snapshotAfter: after)
        }
    }

    private func finish(_ id: Int64, _ status: JobStatus, code: String?, message: String?, snapshotAfter: Int64?) {
        do {
            try store.finishJob(jobId: id, status: status, errorCode: code, errorMessage: message, snapshotAfter: snapshotAfter)
        } catch {
            log("job \(id): could not record its end (\(status.rawValue)): \(error)")
        }
        log("job \(id) \(status.rawValue)\(message.map { ": \($0)" } ?? "")")
        wake()
    }

    private func snapshot(_ clusterId: String, _ topology: ClusterTopology, reason: String, jobId: Int64) -> Int64? {
        let document = TopologyDocument(clusterId: clusterId, observedAt: Timestamp.now(), topology: topology)
        guard let text = try? JSONText.string(document) else { return nil }
        return try? store.insertSnapshot(clusterId: clusterId, reason: reason, jobId: jobId, topology: text).id
    }

    /// After a job the registered seeds follow the membership, so a removed node is never a seed and a new one is.
    private func updateSeeds(_ cluster: ClusterRecord, _ topology: ClusterTopology) {
        let members = topology.nodes.filter { $0.reachable && !$0.flags.contains("fail") }.map(\.address)
        guard !members.isEmpty, members != cluster.seeds else { return }
        try? store.updateSeeds(clusterId: cluster.id, seeds: members)
    }
}
