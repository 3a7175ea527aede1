/// What the I/O layer gathered from one node it tried to reach; the builder's only input.
public struct NodeObservation: Sendable {
    /// The `host:port` we connected to (or tried to).
    public var address: String
    /// Its `CLUSTER NODES`, parsed; nil if unreachable.
    public var nodes: [ClusterNodeEntry]?
    /// `cluster_state` from `CLUSTER INFO` ("ok" / "fail").
    public var clusterState: String?
    /// `DBSIZE`.
    public var keys: Int?
    /// Why the node could not be read.
    public var error: String?
    /// `INFO server`'s product and version.
    public var server: ServerVersion?

    public init(
        address: String, nodes: [ClusterNodeEntry]?, clusterState: String? = nil, keys: Int? = nil,
        error: String? = nil, server: ServerVersion? = nil
    ) {
        self.address = address
        self.nodes = nodes
        self.clusterState = clusterState
        self.keys = keys
        self.error = error
        self.server = server
    }

    /// The answering node's own line, which is authoritative for itself.
    var myself: ClusterNodeEntry? {
        nodes?.first(where: \.isMyself)
    }
}
