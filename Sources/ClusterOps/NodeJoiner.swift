import ClusterModel

/// Adds an empty node to a cluster as a master, or as a replica of a given master, and waits until the whole
/// cluster has seen it and it reports cluster_state:ok — so a reshard that follows never meets CLUSTERDOWN. A
/// replica is reported joined only once it holds its master's data (first sync loaded, link up, offset caught up):
/// a failover to it right after cannot promote an empty node.
public struct NodeJoiner {
    let session: ClusterSession
    let observer: any OperationObserver

    public init(session: ClusterSession, observer: any OperationObserver) {
        self.session = session
        self.observer = observer
    }

    /// `existing` is any current member's address; `masterId` makes the new node a replica of that master, and
    /// `syncTimeout` bounds the wait for its first sync (a replica whose link never comes up fails sooner, with
    /// its reason). `functionsFrom` is the master whose function libraries the node receives before it joins.
    public func run(address: String, existing: String, members: Set<String>, masterId: String?,
                    functionsFrom: String? = nil, syncTimeout: Double = 3600) throws(ClusterOpsError) {
        let view = try session.view(address)
        let newId = view.myself.id
        // A join resumed after the MEET: the node knows every member already, and as a replica may hold keys by now.
        let met = !members.isEmpty && members.isSubset(of: Set(view.nodes.filter { !$0.inHandshake }.map(\.id)))
        if !members.contains(newId) && !met {
            var held = try session.contents(of: address, members: members)
            if let source = functionsFrom {
                // Libraries the source has too are a copy from an interrupted run of this join.
                let allowed = try session.functionLibraries(source)
                held.libraries.removeAll(where: allowed.contains)
            }
            guard held.isEmpty else {
                throw .nodeNotEmpty("\(address) holds \(held.description); only an empty node can be added")
            }
            if !session.access.addressMap.isEmpty {
                // The members will name it by what it announces: the service must be able to dial that too.
                let announced = try session.announcedAddress(address)
                if announced != address && session.access.reachableAddress(announced) != address {
                    throw .impossible("\(address) announces itself as \(announced), which the cluster's address_map does not map to \(address)")
                }
            }
            if let source = functionsFrom {
                observer.step("copying function libraries")
                try FunctionCopier(session: session, observer: observer).copy(from: source, to: address)
            }
            observer.step("joining the cluster")
            let meet = try session.meetAddress(existing)
            try session.meet(address, meet)
            observer.event("CLUSTER MEET \(existing) sent to \(address)", node: address)
        }
        let everyone = members.union([newId])
        observer.step("waiting until every node knows \(address)")
        try session.waitForConvergence(expectedMembers: everyone, timeout: 60)

        if let masterId {
            observer.step("attaching as replica")
            if try session.view(address).myself.masterId != masterId {
                try session.replicate(address, masterId: masterId)
                observer.event("\(address) now replicates \(masterId)", node: address)
            }
            try session.waitUntil("every node sees \(address) as a replica of \(masterId)", timeout: 60) { () throws(ClusterOpsError) -> Bool in
                let (_, observations) = session.topology()
                return observations.allSatisfy { observation in
                    guard let nodes = observation.nodes else { return true }
                    return nodes.contains { $0.id == newId && $0.masterId == masterId }
                }
            }
            let topology = try session.waitForConvergence(expectedMembers: everyone, timeout: 60)
            guard let master = topology.node(id: masterId) else { throw .failed("master \(masterId) left the cluster") }
            observer.step("waiting for the first sync of \(address)")
            try ReplicaSync(session: session, observer: observer)
                .waitInSync(replica: address, master: master.address, timeout: syncTimeout)
        }
        observer.event("\(address) (\(newId)) joined as \(masterId == nil ? "master" : "replica")", node: address)
    }
}
