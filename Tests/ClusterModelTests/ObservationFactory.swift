import ClusterModel

/// Builds observations from real `CLUSTER NODES` text. A seed block shows one node's view; the same
/// membership seen from another node differs only in which line carries `myself`, so views of the
/// other members are derived by moving that flag.
enum ObservationFactory {
    static func entries(_ text: String, from address: String) throws -> [ClusterNodeEntry] {
        try ClusterNodesParser.parse(text).map { entry in
            var entry = entry
            entry.flags.removeAll { $0 == "myself" }
            if entry.address == address {
                entry.flags.insert("myself", at: 0)
            }
            return entry
        }
    }

    static func observation(
        _ text: String, from address: String, keys: Int? = 0, clusterState: String = "ok"
    ) throws -> NodeObservation {
        NodeObservation(
            address: address, nodes: try entries(text, from: address), clusterState: clusterState, keys: keys)
    }

    /// One observation per listed address, all sharing the same membership text.
    static func everyone(_ text: String, except down: Set<String> = []) throws -> [NodeObservation] {
        try ClusterNodesParser.parse(text).map(\.address).sorted().map { address in
            down.contains(address)
                ? NodeObservation(address: address, nodes: nil, error: "Connection refused")
                : try observation(text, from: address)
        }
    }
}
