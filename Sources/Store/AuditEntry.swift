/// One audited act outside a job's own record: who registered or deleted a cluster, who cancelled a job.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: String
    public var actor: String
    /// `cluster.register`, `cluster.delete` or `job.cancel`.
    public var action: String
    public var clusterId: String
    public var jobId: Int64?

    public init(id: Int64, at: String, actor: String, action: String, clusterId: String, jobId: Int64?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.clusterId = clusterId
        self.jobId = jobId
    }
}
