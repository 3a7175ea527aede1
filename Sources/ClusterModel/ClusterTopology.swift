/// The merged picture of a cluster. `nodes` lists masters by their lowest slot (slotless masters
/// after, by address), each followed by its replicas by address; replicas of unknown masters come last.
public struct ClusterTopology: Sendable, Equatable, Codable {
    public struct Summary: Sendable, Equatable, Codable {
        public var masters: Int
        public var replicas: Int
        /// Sum of DBSIZE over masters, as redis-cli's "N keys in M masters".
        public var keys: Int
        /// Slots owned by any master.
        public var slotsAssigned: Int

        public init(masters: Int, replicas: Int, keys: Int, slotsAssigned: Int) {
            self.masters = masters
            self.replicas = replicas
            self.keys = keys
            self.slotsAssigned = slotsAssigned
        }
    }

    public var nodes: [TopologyNode]
    public var checks: TopologyChecks
    public var summary: Summary

    public init(nodes: [TopologyNode], checks: TopologyChecks, summary: Summary) {
        self.nodes = nodes
        self.checks = checks
        self.summary = summary
    }

    public func node(id: String) -> TopologyNode? {
        nodes.first { $0.id == id }
    }

    public var masters: [TopologyNode] {
        nodes.filter(\.isMaster)
    }
}
