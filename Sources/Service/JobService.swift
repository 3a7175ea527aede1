import ClusterModel
import ClusterOps
import Jobs
import Store

/// The job use cases: submit a job of any registered kind, read the audit trail, cancel, and watch a job change.
public final class JobService: Sendable {
    let store: Store
    let settings: ConnectionSettings
    let backups: BackupDirectory?
    /// Jobs that may wait in one cluster's queue; a submission beyond is refused (429) rather than piling up.
    let maxQueuedJobs: Int

    public static let defaultMaxQueuedJobs = 100

    public init(store: Store, settings: ConnectionSettings, backups: BackupDirectory? = nil,
                maxQueuedJobs: Int = JobService.defaultMaxQueuedJobs) {
        self.store = store
        self.settings = settings
        self.backups = backups
        self.maxQueuedJobs = maxQueuedJobs
    }

    /// Validates a request for `kind` on a registered cluster and queues it, or (with `dry_run`) answers its plan.
    /// When nothing else of the cluster is queued or running, the request is planned and checked (`preflight`)
    /// against the live topology now, so impossibilities and failing checks are answered at once (422); the plan
    /// the job carries out is fixed when it starts, after the same checks run again.
    /// With `ifMatch` (the topology ETag a reviewed dry run showed), a cluster that changed since is refused (412),
    /// now and again when the job starts.
    /// With `idempotency`, a request already made with the same key (same endpoint and body, within 24 hours) answers
    /// the job it made instead of a new one; the same key with another request is refused (422).
    public func submit(kind name: String, clusterId: String, body: [String: JSONValue], actor: String,
                       idempotency: IdempotencyKey? = nil, ifMatch: String? = nil) throws -> Submission {
        guard let kind = JobKinds.named(name) else { throw ServiceError.notFound("no job kind '\(name)'") }
        return try ServiceError.wrap {
            try submit(kind, clusterId: clusterId, body: body, actor: actor, idempotency: idempotency, ifMatch: ifMatch)
        }
    }

    private func submit<K: JobKind>(_ kind: K.Type, clusterId: String, body: [String: JSONValue], actor: String,
                                    idempotency: IdempotencyKey?, ifMatch: String?) throws -> Submission {
        let cluster = try ClusterService.record(clusterId, in: store)
        let request = try RequestFields(body, allowed: K.fields.union(["dry_run"]).union(JobOptions.fields))
        let dryRun = try request.bool("dry_run") ?? false
        // A retry is answered before anything is planned again: the first request's job may have changed the cluster.
        if !dryRun, let idempotency, let existing = try store.job(for: idempotency) {
            return .existing(existing)
        }
        let params = try K.parse(request)
        try K.validate(params)
        let options = try JobOptions.parse(request, ifMatch: ifMatch)
        let idle = try store.activeJob(clusterId: cluster.id) == nil
        if dryRun || idle || ifMatch != nil {
            let session = ClusterSession(access: settings.access(for: cluster))
            defer { session.close() }
            let (topology, _) = session.topology()
            let etag = TopologyDigest.etag(topology)
            if let ifMatch, !TopologyDigest.matches(ifMatch, etag: etag) {
                throw ServiceError.preconditionFailed("the cluster changed since the plan was reviewed (If-Match \(ifMatch), now "
                                                      + "\"\(etag)\"); nothing was queued. Review a new dry run", etag: etag)
            }
            // Behind another job the cluster will have changed by the time this one runs (a reshard queued after an
            // add-node names a node that does not exist yet): then it is only planned when it starts.
            if dryRun || idle {
                let (_, planned) = try JobPlanning.plan(K.self, params: params, options: options, input: PlanningInput(
                    topology: topology, seeds: cluster.seeds, snapshot: store.snapshotTopology(clusterId: cluster.id),
                    access: settings.access(for: cluster), connections: settings,
                    measuredRate: store.measuredRate(clusterId: cluster.id), clusterId: cluster.id, backups: backups), session: session)
                if dryRun {
                    return .dryRun(DryRun(type: K.name, params: try JSONText.string(try sealed(params, of: K.self, clusterId: cluster.id)),
                                          plan: planned.text, topologyEtag: planned.etag))
                }
                let failures = planned.preflight.failures
                if !failures.isEmpty && !options.force {
                    throw ServiceError.preflightFailed(ClusterOpsError.preflightFailed(failures).description,
                                                       checks: try JSONText.string(planned.preflight))
                }
            }
        }
        if !dryRun {
            let queued = try store.queuedJobCount(clusterId: cluster.id)
            if queued >= maxQueuedJobs {
                throw ServiceError.queueFull("cluster '\(cluster.id)' already has \(queued) jobs queued (at most \(maxQueuedJobs)); "
                                             + "nothing was queued. Retry once some have run, or cancel some", retryAfter: 30)
            }
        }
        let stored = try JSONText.string(try sealed(params, of: K.self, clusterId: cluster.id))
        let (job, created) = try store.insertJob(clusterId: cluster.id, type: K.name, params: stored, actor: actor,
                                                 options: options.stored, idempotency: dryRun ? nil : idempotency)
        return created ? .queued(job) : .existing(job)
    }

    /// Params as stored and shown: secrets sealed under the store's key, never in plain text.
    func sealed<K: JobKind>(_ params: K.Params, of kind: K.Type, clusterId: String) throws -> K.Params {
        try K.sealingSecrets(params) { try store.sealSecret($0, context: JobSecrets.context(clusterId: clusterId)) }
    }

    public func job(_ id: Int64) throws -> JobRecord {
        try ServiceError.wrap {
            guard let job = try store.job(id) else { throw ServiceError.notFound("no job '\(id)'") }
            return job
        }
    }

    public func jobs(_ filter: JobFilter) throws -> [JobRecord] {
        try ServiceError.wrap { try store.jobs(filter) }
    }

    public func events(jobId: Int64, after: Int64 = 0) throws -> [JobEvent] {
        try ServiceError.wrap { try store.events(jobId: jobId, after: after) }
    }

    /// A queued job is cancelled at once; a running one stops at its next safe point. A job that already ended is a
    /// conflict.
    public func cancel(jobId: Int64, actor: String = "anonymous") throws -> JobRecord {
        try ServiceError.wrap {
            let job = try job(jobId)
            guard !job.status.isFinished else { throw ServiceError.conflict("job \(job.id) already ended (\(job.status.rawValue))") }
            guard let updated = try store.requestCancel(jobId: job.id, actor: actor) else { throw ServiceError.notFound("no job '\(jobId)'") }
            if updated.status.isFinished && updated.status != .cancelled {
                throw ServiceError.conflict("job \(job.id) already ended (\(updated.status.rawValue))")
            }
            return updated
        }
    }

    /// Calls `handler` with every change of the job from now on (on the writing thread: hand work off quickly).
    public func watch(jobId: Int64, _ handler: @escaping @Sendable (JobChange) -> Void) -> JobChangeHub.Subscription {
        store.changes.subscribe(jobId: jobId, handler)
    }

    public func unwatch(_ subscription: JobChangeHub.Subscription) {
        store.changes.unsubscribe(subscription)
    }

    /// How many jobs stand in each status, for /metrics.
    public func countsByStatus() throws -> [JobStatus: Int] {
        try ServiceError.wrap { try store.jobCountsByStatus() }
    }

    public var kindNames: [String] { JobKinds.names }
}
