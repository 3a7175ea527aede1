import ClusterModel
import ClusterOps
import RESP

/// Node references as users give them: a 40-hex node id or host:port.
enum NodeReference {
    static func resolve(_ reference: String, in topology: ClusterTopology) throws(ClusterOpsError) -> TopologyNode {
        if let node = topology.nodes.first(where: { $0.id == reference.lowercased() }) { return node }
        let wanted = RedisEndpoint(reference)?.description ?? reference
        if let node = topology.nodes.first(where: { $0.address == wanted }) { return node }
        throw .impossible("unknown node '\(reference)': not an id or address of this cluster's nodes")
    }
}
