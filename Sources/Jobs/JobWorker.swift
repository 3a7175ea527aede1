import ClusterModel
import ClusterOps
import Foundation
import Store

/// Runs queued jobs: at most one per cluster, clusters side by side, each job on its own thread. Jobs found
/// running at start-up were interrupted by a crash and are resumed with the plan they stored when they started.
///
/// The dispatcher sleeps until the store reports a job queued or ended (its change feed), so a job starts as soon
/// as it is submitted and no thread polls. When the store cannot be written it backs off, doubling the pause up to
/// `maxBackoff`, and leaves every job where it stands.
public final class JobWorker: @unchecked Sendable {
    let store: Store
    let settings: ConnectionSettings
    let backups: BackupDirectory?
    let log: @Sendable (String) -> Void

    static let firstBackoff = 0.5
    static let maxBackoff = 30.0

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var busyClusters = Set<String>()
    private var stopping = false
    private var started = false
    private var wakeRequested = false
    private var retryAt: Date?
    private var backoff = JobWorker.firstBackoff
    private var subscription: JobChangeHub.Subscription?

    /// `backups`: where backup jobs write (nil: they are refused).
    public init(store: Store, settings: ConnectionSettings = ConnectionSettings(), backups: BackupDirectory? = nil,
                log: @escaping @Sendable (String) -> Void) {
        self.backups = backups
        self.store = store
        self.settings = settings
        self.log = log
    }

    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        wakeRequested = true
        subscription = store.changes.subscribe(jobId: nil) { [weak self] change in
            // Progress and events don't change the queue; a job queued or ended does.
            if case .job(let job) = change, job.status == .queued || job.status.isFinished { self?.wake() }
        }
        let thread = Thread { [self] in dispatchLoop() }
        thread.name = "job-dispatcher"
        thread.start()
    }

    /// Something changed (a job was queued or cancelled): look at the queue now.
    public func wake() {
        condition.lock()
        wakeRequested = true
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
        while !busyClusters.isEmpty && condition.wait(until: deadline) {}
        let subscription = self.subscription
        self.subscription = nil
        condition.unlock()
        if let subscription { store.changes.unsubscribe(subscription) }
    }

    // MARK: - Dispatch

    private func dispatchLoop() {
        while true {
            condition.lock()
            while !stopping {
                if let retryAt {
                    // Backing off after a store failure: nothing is tried before `retryAt`, whatever wakes us, so a
                    // failing store costs one attempt per pause rather than a spin.
                    if retryAt <= Date() {
                        self.retryAt = nil
                        break
                    }
                    _ = condition.wait(until: retryAt)
                } else if wakeRequested {
                    break
                } else {
                    condition.wait()
                }
            }
            if stopping {
                condition.unlock()
                return
            }
            wakeRequested = false
            condition.unlock()
            dispatch()
        }
    }

    private func dispatch() {
        let jobs: [JobRecord]
        do {
            jobs = try store.unfinishedJobs()
        } catch {
            storeUnavailable("the job queue is unreadable: \(error)")
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
                wakeRequested = true
                condition.broadcast()
                condition.unlock()
            }
            thread.name = "job-\(job.id)"
            thread.stackSize = 1 << 22
            thread.start()
        }
    }

    /// Leaves everything as it stands and looks again after a pause that doubles each time, up to `maxBackoff`.
    private func storeUnavailable(_ reason: String) {
        condition.lock()
        let delay = backoff
        backoff = min(backoff * 2, JobWorker.maxBackoff)
        retryAt = Date().addingTimeInterval(delay)
        condition.broadcast()
        condition.unlock()
        log("\(reason); retrying in \(delay)s")
    }

    private func storeWorked() {
        condition.lock()
        backoff = JobWorker.firstBackoff
        condition.unlock()
    }

    // MARK: - One job

    private func run(_ job: JobRecord) {
        do {
            guard let kind = JobKinds.named(job.type) else {
                try fail(job.id, from: job.status, code: "unknown_type", message: "unknown job type '\(job.type)'")
                return
            }
            guard let cluster = try store.cluster(job.clusterId) else {
                try fail(job.id, from: job.status, code: "unknown_cluster",
                         message: "cluster '\(job.clusterId)' is no longer registered")
                return
            }
            if try run(kind, job, cluster) { storeWorked() }
        } catch StoreError.unavailable(let reason) {
            storeUnavailable("job \(job.id): the store cannot be written (\(reason)); the job stays \(job.status.rawValue)")
        } catch StoreError.statusChanged(let id, _, let actual) {
            log("job \(id) is now \(actual?.rawValue ?? "gone"); leaving it")
        } catch {
            log("job \(job.id): \(error)")
        }
    }

    /// False when the job paused because the store could not be written (it resumes after a back-off).
    private func run<K: JobKind>(_ kind: K.Type, _ job: JobRecord, _ cluster: ClusterRecord) throws -> Bool {
        let params: K.Params
        do {
            params = try K.openingSecrets(try JSONText.decode(K.Params.self, from: job.params)) { sealed in
                try store.openSecret(sealed, context: JobSecrets.context(clusterId: job.clusterId))
            }
        } catch {
            try fail(job.id, from: job.status, code: "bad_params", message: "the stored params cannot be read: \(error)")
            return true
        }
        let session = ClusterSession(access: settings.access(for: cluster))
        defer { session.close() }

        var job = job
        let plan: K.Plan
        let options = JobOptions.read(job.options)
        if job.status == .queued {
            let (topology, _) = session.topology()
            let before = try snapshot(cluster.id, topology, reason: "job-before", jobId: job.id)
            let etag = TopologyDigest.etag(topology)
            if let expected = options.ifMatch, !TopologyDigest.matches(expected, etag: etag) {
                let error = ClusterOpsError.topologyChanged("If-Match \(expected), now \"\(etag)\"; nothing was changed. "
                                                            + "Review a new dry run and submit again")
                try store.appendEvent(jobId: job.id, level: "error", message: error.description)
                try fail(job.id, from: .queued, code: error.code, message: error.description, snapshotAfter: before)
                return true
            }
            let planned: PlannedJob
            do {
                (plan, planned) = try JobPlanning.plan(K.self, params: params, options: options, input: PlanningInput(
                    topology: topology, seeds: cluster.seeds, snapshot: store.snapshotTopology(clusterId: cluster.id),
                    access: settings.access(for: cluster), connections: settings,
                    measuredRate: store.measuredRate(clusterId: cluster.id), clusterId: cluster.id, backups: backups), session: session)
            } catch {
                let failure = error as? ClusterOpsError ?? .failed("\(error)")
                try store.appendEvent(jobId: job.id, level: "error", message: "planning failed: \(failure)")
                try fail(job.id, from: .queued, code: failure.code, message: failure.description, snapshotAfter: before)
                return true
            }
            for check in planned.preflight where check.status != .ok {
                try store.appendEvent(jobId: job.id, level: check.status == .fail ? "error" : "warning",
                                      message: "preflight \(check.name) \(check.status.rawValue): \(check.message)")
            }
            let failures = planned.preflight.failures
            if !failures.isEmpty {
                if options.force {
                    try store.appendEvent(jobId: job.id, level: "warning", message: "force: running despite failing checks")
                } else {
                    let error = ClusterOpsError.preflightFailed(failures)
                    try fail(job.id, from: .queued, code: error.code, message: error.description, snapshotAfter: before)
                    return true
                }
            }
            // The plan is fixed here, in the same guarded write that starts the job: a job cancelled meanwhile
            // stays cancelled and never runs.
            guard let started = try store.startJob(jobId: job.id, plan: planned.text, slotsTotal: planned.slotsTotal,
                                                   snapshotBefore: before) else {
                log("job \(job.id) was cancelled before it started")
                return true
            }
            job = started
            try store.appendEvent(jobId: job.id, message: "started: \(plan.summary)")
            log("job \(job.id) (\(job.type) on \(job.clusterId)) started: \(plan.summary)")
        } else {
            // Never planned again: the cluster has moved on since, and a second plan would move slots twice.
            guard let text = job.plan else {
                try fail(job.id, from: .running, code: "plan_unreadable",
                         message: "the job was running without a stored plan; it was not planned again")
                return true
            }
            do {
                plan = try JSONText.decode(K.Plan.self, from: text)
            } catch {
                try fail(job.id, from: .running, code: "plan_unreadable",
                         message: "the stored plan cannot be read (\(error)); it was not planned again, so nothing moves "
                            + "twice. Check GET /clusters/\(job.clusterId)/topology and submit a new job if needed")
                return true
            }
            try store.appendEvent(jobId: job.id, level: "warning", message: "resuming after an interruption, from the cluster's current state")
            log("job \(job.id) (\(job.type) on \(job.clusterId)) resuming")
        }

        let reporter = JobReporter(store: store, job: job, slotsTotal: plan.slotsTotal, checkpoint: try store.checkpoint(jobId: job.id),
                                   isShuttingDown: { [self] in isStopping })
        let context = JobContext(session: session, observer: reporter, options: K.migrationOptions(params),
                                 report: { [reporter] value in reporter.result((try? JSONText.string(value)) ?? "null") },
                                 checkpoint: reporter, jobId: job.id, clusterId: job.clusterId, backups: backups)
        do {
            let outcome = try K.execute(plan, params: params, in: context)
            let executed = Date()
            if let failure = reporter.storeFailure {
                throw StoreError.unavailable(failure)
            }
            if outcome == .stopped && reporter.stopReason == .shutdown {
                try store.appendEvent(jobId: job.id, level: "warning", message: "service stopping: job paused at a safe point, resumes on restart")
                return true
            }
            // The proof: the kind's post-conditions on a finished job, the ones every job owes on a cancelled one.
            let verification = Verifier(session: session, observer: reporter)
                .verify(outcome == .stopped ? Expectations() : K.expectations(plan, params: params), now: Timestamp.now)
            try store.setVerification(jobId: job.id, verification: try JSONText.string(verification))
            let (topology, _) = session.topology()
            let after = try snapshot(cluster.id, topology, reason: "job-after", jobId: job.id)
            if outcome == .stopped {
                try store.appendEvent(jobId: job.id, message: "cancelled at a safe point: no slot is open")
                try finish(job.id, .cancelled, snapshotAfter: after)
            } else if !verification.passed {
                let error = ClusterOpsError.verificationFailed(verification.differences)
                try store.appendEvent(jobId: job.id, level: "error", message: error.description)
                try fail(job.id, from: .running, code: error.code, message: error.description, snapshotAfter: after)
            } else {
                try updateSeeds(cluster, topology)
                try recordRate(job, plan: plan, keysMoved: reporter.keysMoved, until: executed)
                try store.appendEvent(jobId: job.id, message: "succeeded; verified: " + verification.checks.map(\.detail).joined(separator: "; "))
                try finish(job.id, .succeeded, snapshotAfter: after)
            }
        } catch let error as ClusterOpsError {
            if isStopping, case .redis = error {
                // A shutdown that cut a command short: the job resumes on restart.
                return true
            }
            try store.appendEvent(jobId: job.id, level: "error", message: error.description)
            let (topology, _) = session.topology()
            let after = try snapshot(cluster.id, topology, reason: "job-after", jobId: job.id)
            try fail(job.id, from: .running, code: error.code, message: error.description, snapshotAfter: after)
        }
        return true
    }

    /// The rate a job that moved keys achieved, for the next plan's time estimate.
    private func recordRate<Plan>(_ job: JobRecord, plan: Plan, keysMoved: Int, until end: Date) throws {
        guard keysMoved > 0, let moving = plan as? any SlotMovingPlan,
              let started = job.startedAt.flatMap(Timestamp.parse) else { return }
        let seconds = max(end.timeIntervalSince(started), 0.001)
        let method = if case .atomic = moving.migrationMethod { "atomic" } else { "keys" }
        try store.setMoveRate(jobId: job.id, keysPerSecond: Double(keysMoved) / seconds, method: method)
    }

    private func finish(_ id: Int64, _ status: JobStatus, snapshotAfter: Int64?) throws {
        try store.finishJob(jobId: id, from: .running, to: status, snapshotAfter: snapshotAfter)
        log("job \(id) \(status.rawValue)")
    }

    private func fail(_ id: Int64, from: JobStatus, code: String, message: String, snapshotAfter: Int64? = nil) throws {
        try store.finishJob(jobId: id, from: from, to: .failed, errorCode: code, errorMessage: message, snapshotAfter: snapshotAfter)
        log("job \(id) failed: \(message)")
    }

    private func snapshot(_ clusterId: String, _ topology: ClusterTopology, reason: String, jobId: Int64) throws -> Int64 {
        let document = TopologyDocument(clusterId: clusterId, observedAt: Timestamp.now(), topology: topology)
        return try store.insertSnapshot(clusterId: clusterId, reason: reason, jobId: jobId, topology: try JSONText.string(document)).id
    }

    /// After a job the registered seeds follow the membership, so a removed node is never a seed and a new one is.
    private func updateSeeds(_ cluster: ClusterRecord, _ topology: ClusterTopology) throws {
        let members = topology.nodes.filter { $0.reachable && !$0.flags.contains("fail") }.map(\.address)
        guard !members.isEmpty, members != cluster.seeds else { return }
        try store.updateSeeds(clusterId: cluster.id, seeds: members)
    }
}
