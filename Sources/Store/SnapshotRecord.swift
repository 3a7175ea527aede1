/// A stored topology snapshot. `topology` is the JSON text of the topology as the API returns it.
public struct SnapshotRecord: Sendable, Equatable {
    public var id: Int64
    public var clusterId: String
    public var createdAt: String
    public var reason: String
    public var jobId: Int64?
    public var topology: String

    public init(id: Int64, clusterId: String, createdAt: String, reason: String, jobId: Int64?, topology: String) {
        self.id = id
        self.clusterId = clusterId
        self.createdAt = createdAt
        self.reason = reason
        self.jobId = jobId
        self.topology = topology
    }
}
