import ClusterModel
import RESP

/// The cluster-changing commands the operations send, each through `change` with the check that tells, after a
/// lost reply, whether it took effect.
extension ClusterSession {
    /// CLUSTER MEET, naming the peer's bus port when known: taken effect once `address` knows the peer's ip:port,
    /// even still in handshake.
    func meet(_ address: String, _ peer: MeetTarget) throws(ClusterOpsError) {
        try change(address, ["CLUSTER", "MEET", peer.ip, peer.port] + (peer.busPort.map { [$0] } ?? [])) { () throws(ClusterOpsError) -> Bool in
            try self.view(address).nodes.contains { $0.host == peer.ip && "\($0.port)" == peer.port }
        }
    }

    /// CLUSTER ADDSLOTSRANGE: taken effect once `address` owns every slot of `slots`.
    ///
    /// A node that still names an owner for a slot nobody claims any more (it heard the old owner's claim again after
    /// letting go of it) answers "already busy": it is then given the slot with SETSLOT NODE itself, which takes it
    /// over in its own view.
    func addSlots(_ address: String, _ slots: SlotSet) throws(ClusterOpsError) {
        let ranges = slots.ranges.flatMap { ["\($0.lowerBound)", "\($0.upperBound)"] }
        let taken = { () throws(ClusterOpsError) -> Bool in try self.view(address).myself.slots.intersection(slots) == slots }
        do {
            try change(address, ["CLUSTER", "ADDSLOTSRANGE"] + ranges, verify: taken)
        } catch .redis(_, .server(_, let message)) where message.contains("already busy") {
            let view = try self.view(address)
            let missing = slots.subtracting(view.myself.slots)
            let commands = missing.slots.map { ["CLUSTER", "SETSLOT", "\($0)", "NODE", view.myself.id] }
            for case .failure(let error) in try pipeline(address, commands, idempotent: true) {
                throw .redis(endpoint: address, error)
            }
            guard try taken() else { throw .failed("\(address) did not take slots \(missing)") }
        }
    }

    /// CLUSTER REPLICATE: taken effect once `address` names `masterId` as its master.
    func replicate(_ address: String, masterId: String) throws(ClusterOpsError) {
        try change(address, ["CLUSTER", "REPLICATE", masterId]) { () throws(ClusterOpsError) -> Bool in
            try self.view(address).myself.masterId == masterId
        }
    }

    /// CLUSTER FORGET: taken effect once `address` no longer lists `nodeId`. A node that already forgot it
    /// answers "Unknown node", which is success here (a resumed job).
    func forget(_ address: String, nodeId: String) throws(ClusterOpsError) {
        do {
            try change(address, ["CLUSTER", "FORGET", nodeId]) { () throws(ClusterOpsError) -> Bool in
                try !self.view(address).nodes.contains { $0.id == nodeId }
            }
        } catch .redis(_, .server(_, let message)) where message.contains("Unknown node") {
            return
        }
    }

    /// CLUSTER BUMPEPOCH: its point is that `address` holds the highest config epoch it knows of, which is what
    /// the check reads (a node already there answers STILL rather than bumping).
    func bumpEpoch(_ address: String) throws(ClusterOpsError) {
        try change(address, ["CLUSTER", "BUMPEPOCH"]) { () throws(ClusterOpsError) -> Bool in
            let view = try self.view(address)
            return view.nodes.allSatisfy { $0.isMyself || $0.configEpoch < view.myself.configEpoch }
        }
    }

    /// CLUSTER SET-CONFIG-EPOCH on a node that knows no other: taken effect once its epoch is no longer 0.
    func setConfigEpoch(_ address: String, _ epoch: Int) throws(ClusterOpsError) {
        try change(address, ["CLUSTER", "SET-CONFIG-EPOCH", "\(epoch)"]) { () throws(ClusterOpsError) -> Bool in
            try self.view(address).myself.configEpoch != 0
        }
    }

    /// CLUSTER RESET HARD: taken effect once the node knows nobody but itself (a hard reset also renames it).
    func resetHard(_ address: String, formerId: String) throws(ClusterOpsError) {
        try change(address, ["CLUSTER", "RESET", "HARD"]) { () throws(ClusterOpsError) -> Bool in
            let view = try self.view(address)
            return view.nodes.count == 1 && view.myself.id != formerId
        }
    }
}
