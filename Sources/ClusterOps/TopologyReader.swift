import ClusterModel
import RESP

/// Gathers every reachable node's own view (CLUSTER NODES, CLUSTER INFO, DBSIZE), starting from the seeds and
/// following the nodes they report, and merges the views with the model's TopologyBuilder.
public struct TopologyReader: Sendable {
    public let access: ClusterAccess

    public init(access: ClusterAccess) {
        self.access = access
    }

    public func read() -> ClusterTopology {
        TopologyBuilder.build(observe())
    }

    /// One observation per distinct node tried. Nodes are visited in waves, each wave in parallel.
    public func observe() -> [NodeObservation] {
        var observations: [NodeObservation] = []
        var triedAddresses = Set<String>()
        var seenIds = Set<String>()
        var wave = access.seeds
        while !wave.isEmpty {
            let fresh = wave.filter { triedAddresses.insert($0.description).inserted }
            let access = self.access
            let results = concurrently(fresh) { endpoint in TopologyReader.observe(endpoint, access: access) }
            var next: [RedisEndpoint] = []
            for observation in results {
                // A seed given by hostname and the same node by IP must count once: dedupe by the node's own id.
                if let me = observation.nodes?.first(where: \.isMyself) {
                    guard seenIds.insert(me.id).inserted else { continue }
                }
                observations.append(observation)
                for entry in observation.nodes ?? [] where !entry.isMyself && !entry.hasNoAddress && !entry.inHandshake {
                    if let endpoint = RedisEndpoint(entry.address), !seenIds.contains(entry.id) {
                        next.append(endpoint)
                    }
                }
            }
            wave = next
        }
        return TopologyReader.members(observations)
    }

    /// The nodes that belong to the cluster. Once any node knows others, a seed that no member knows and that
    /// knows nobody (a node removed and reset) is not part of it. Before `create` every node is alone, and all count.
    static func members(_ observations: [NodeObservation]) -> [NodeObservation] {
        let known = Set(observations.compactMap(\.nodes).filter { $0.count > 1 }.flatMap { $0.map(\.id) })
        guard !known.isEmpty else { return observations }
        return observations.filter { observation in
            guard let me = observation.nodes?.first(where: \.isMyself) else { return true }
            return known.contains(me.id)
        }
    }

    static func observe(_ endpoint: RedisEndpoint, access: ClusterAccess) -> NodeObservation {
        do {
            let connection = try access.connect(endpoint)
            defer { connection.close() }
            let replies = try connection.pipeline([
                ["CLUSTER", "NODES"].map { Array($0.utf8) },
                ["CLUSTER", "INFO"].map { Array($0.utf8) },
                [Array("DBSIZE".utf8)],
            ])
            let nodesText = try replies[0].get().string ?? ""
            let info = (try? replies[1].get().string).flatMap { $0 } ?? ""
            let keys = (try? replies[2].get().int).flatMap { $0 }.map { Int($0) }
            return NodeObservation(address: endpoint.description, nodes: try ClusterNodesParser.parse(nodesText),
                                   clusterState: ClusterInfo.field("cluster_state", in: info), keys: keys, error: nil)
        } catch {
            return NodeObservation(address: endpoint.description, nodes: nil, clusterState: nil, keys: nil,
                                   error: String(describing: error))
        }
    }
}
