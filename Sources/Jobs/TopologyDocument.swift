import ClusterModel

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
}
