import ClusterModel
import ClusterOps
import RESP

/// Node references as users give them: a 40-hex node id or host:port (announced or reachable).
enum NodeReference {
    static func resolve(_ reference: String, in topology: ClusterTopology) throws(ClusterOpsError) -> TopologyNode {
        if let node = topology.nodes.first(where: { $0.id == reference.lowercased() }) { return node }
        let wanted = RedisEndpoint(reference)?.description ?? reference
        // Either the address the node announces or, behind an address map, the one the service dials it at.
        if let node = topology.nodes.first(where: { $0.isNamed(wanted) }) { return node }
        throw .impossible("unknown node '\(reference)': not an id or address of this cluster's nodes")
    }
}
