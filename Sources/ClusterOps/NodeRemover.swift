import ClusterModel

/// Removes a node that owns no slots: its replicas (if it is a master) move to other masters, every other node
/// forgets it, and it is reset so it can be reused.
public struct NodeRemover {
    let session: ClusterSession
    let observer: any OperationObserver

    public init(session: ClusterSession, observer: any OperationObserver) {
        self.session = session
        self.observer = observer
    }

    /// `others` are the remaining members' addresses; `reassign` maps each replica address of the removed master
    /// to the id of its new master.
    public func run(nodeId: String, address: String, others: [String], reassign: [String: String]) throws(ClusterOpsError) {
        for (replica, master) in reassign.sorted(by: { $0.key < $1.key }) {
            try session.replicate(replica, masterId: master)
            observer.event("\(replica) now replicates \(master)", node: replica)
        }
        observer.step("forgetting \(address)")
        for other in others {
            try session.forget(other, nodeId: nodeId)
        }
        observer.event("\(others.count) nodes forgot \(nodeId)", node: address)
        do {
            try session.resetHard(address, formerId: nodeId)
            observer.event("\(address) reset; it can be added to a cluster again", node: address)
        } catch {
            // The node may be down: the cluster has forgotten it, which is what matters.
            observer.event("could not reset \(address): \(error)", node: address)
        }
        if !others.isEmpty {
            try session.waitForConvergence(expectedMembers: nil, seeds: others, timeout: 60)
        }
    }
}
