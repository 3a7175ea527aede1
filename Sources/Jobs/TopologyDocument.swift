import ClusterModel
import Store

/// The topology as the API answers it and as snapshots store it.
public struct TopologyDocument: Sendable, Codable {
    public var clusterId: String
    public var observedAt: String
    public var nodes: [TopologyNode]
    public var checks: TopologyChecks
    public var summary: ClusterTopology.Summary

    public init(clusterId: String, observedAt: String, topology: ClusterTopology) {
        self.clusterId = clusterId
        self.observedAt = observedAt
        nodes = topology.nodes
        checks = topology.checks
        summary = topology.summary
    }

    /// The topology's ETag (see `TopologyDigest`).
    public var etag: String { TopologyDigest.etag(ClusterTopology(nodes: nodes, checks: checks, summary: summary)) }
}

extension Store {
    /// A lookup of this cluster's snapshots by id, as their topology documents (nil: no such snapshot).
    public func snapshotTopology(clusterId: String) -> @Sendable (Int64) throws -> TopologyDocument? {
        return { [self] id in
            try snapshot(clusterId: clusterId, id: id).map { try JSONText.decode(TopologyDocument.self, from: $0.topology) }
        }
    }
}
