/// Filters for the job audit list; `since`/`until` are canonical timestamps, `before` is the cursor (a job id).
public struct JobFilter: Sendable, Equatable {
    public var clusterId: String?
    public var status: JobStatus?
    public var type: String?
    public var since: String?
    public var until: String?
    public var before: Int64?
    public var limit: Int

    public init(clusterId: String? = nil, status: JobStatus? = nil, type: String? = nil, since: String? = nil,
                until: String? = nil, before: Int64? = nil, limit: Int = 50) {
        self.clusterId = clusterId
        self.status = status
        self.type = type
        self.since = since
        self.until = until
        self.before = before
        self.limit = limit
    }
}
