import ClusterModel

/// Forms a cluster from empty nodes, as `redis-cli --cluster create` does: slots to the masters, distinct config
/// epochs, MEET, then replicas attached once every node knows every other. Each step checks the nodes' state
/// first, so a create interrupted half way finishes when run again.
public struct ClusterCreator {
    let session: ClusterSession
    let observer: any OperationObserver

    public init(session: ClusterSession, observer: any OperationObserver) {
        self.session = session
        self.observer = observer
    }

    public func run(_ plan: CreatePlan) throws(ClusterOpsError) {
        let all = plan.masters.map(\.address) + plan.replicas.map(\.address)
        observer.step("assigning slots")
        for (index, master) in plan.masters.enumerated() {
            let me = try session.view(master.address).myself
            let missing = master.slots.subtracting(me.slots)
            if !missing.isEmpty {
                try session.addSlots(master.address, missing)
                observer.event("assigned slots \(missing) to \(master.address)", node: master.address)
            }
            if me.configEpoch == 0 {
                // Distinct epochs up front, so the masters never start with a collision to resolve. A node that
                // already met others refuses; Redis then resolves the collision itself, so that is only noted.
                do {
                    try session.setConfigEpoch(master.address, index + 1)
                } catch .redis(_, .server(_, let message)) {
                    observer.event("config epoch not set (\(message)); the cluster will resolve epochs itself", node: master.address)
                }
            }
        }

        observer.step("joining nodes")
        let first = try session.meetAddress(all[0])
        for address in all.dropFirst() {
            try session.meet(address, first)
        }
        observer.event("sent CLUSTER MEET \(all[0]) to \(all.count - 1) nodes", node: all[0])
        var ids: [String: String] = [:]
        for address in all { ids[address] = try session.view(address).myself.id }
        let members = Set(ids.values)
        try session.waitUntil("every node knows every other", timeout: 60) { () throws(ClusterOpsError) -> Bool in
            for address in all {
                let known = try session.view(address).nodes.filter { !$0.inHandshake }.map(\.id)
                if Set(known) != members { return false }
            }
            return true
        }

        observer.step("attaching replicas")
        for replica in plan.replicas {
            guard let masterId = ids[replica.masterAddress] else {
                throw .impossible("replica \(replica.address) names master \(replica.masterAddress), which is not in the plan")
            }
            let me = try session.view(replica.address).myself
            if me.masterId != masterId {
                try session.replicate(replica.address, masterId: masterId)
                observer.event("\(replica.address) now replicates \(replica.masterAddress)", node: replica.address)
            }
        }

        observer.step("waiting for convergence")
        try session.waitForConvergence(expectedMembers: members, seeds: all, timeout: 60)
        observer.event("cluster formed: \(plan.masters.count) masters, \(plan.replicas.count) replicas", node: nil)
    }
}
