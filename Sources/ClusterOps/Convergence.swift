import ClusterModel

/// Whether a cluster has settled: every reachable node sees the same members with the same roles and slots, and
/// says cluster_state:ok. Slots must not move before this holds, or the move meets CLUSTERDOWN half way.
public enum Convergence {
    /// nil when converged, else the first reason it is not. Nodes in `ignoring` (one on its way out of the
    /// cluster) are left out: their own views, and what others say of them.
    public static func problem(_ observations: [NodeObservation], expectedMembers: Set<String>? = nil,
                               ignoring: Set<String> = []) -> String? {
        let ignoredAddresses = Set(observations.flatMap { $0.nodes ?? [] }.filter { ignoring.contains($0.id) }.map(\.address))
        let observations = observations.filter { observation in
            if let me = observation.nodes?.first(where: \.isMyself) { return !ignoring.contains(me.id) }
            return !ignoredAddresses.contains(observation.address)
        }
        let reachable = observations.filter { $0.nodes != nil }
        guard !reachable.isEmpty else { return "no node is reachable" }
        if let down = observations.first(where: { $0.nodes == nil }) {
            return "\(down.address) is unreachable: \(down.error ?? "no answer")"
        }
        var reference: [String: String]?
        var referenceAddress = ""
        for observation in reachable {
            let nodes = (observation.nodes ?? []).filter { !ignoring.contains($0.id) }
            if observation.clusterState != "ok" {
                return "\(observation.address) reports cluster_state:\(observation.clusterState ?? "unknown")"
            }
            if let bad = nodes.first(where: { $0.inHandshake || $0.isFailing || $0.isPossiblyFailing || $0.hasNoAddress }) {
                return "\(observation.address) sees \(bad.address) as \(bad.flags.joined(separator: ","))"
            }
            let signature = Self.signature(nodes)
            if let expectedMembers, Set(signature.keys) != expectedMembers {
                return "\(observation.address) knows \(signature.count) nodes, expected \(expectedMembers.count)"
            }
            if let reference {
                if reference != signature {
                    return "\(observation.address) and \(referenceAddress) disagree about the cluster's configuration"
                }
            } else {
                reference = signature
                referenceAddress = observation.address
            }
        }
        return nil
    }

    /// One view's roles (whom each replica follows) and slot owners by node id: two views agree when these are equal.
    public static func signature(_ nodes: [ClusterNodeEntry]) -> [String: String] {
        Dictionary(nodes.map { ($0.id, "\($0.isMaster ? "M" : "S:\($0.masterId ?? "-")") \($0.slots.description)") },
                   uniquingKeysWith: { first, _ in first })
    }
}
