/// What `fix` will do, decided from a topology: the open-slot cases and uncovered slots redis-cli repairs, the
/// shards that have no live node left, and the slots it cannot repair, with the reason.
public struct FixPlan: Sendable, Equatable {
    public struct Migration: Sendable, Equatable, Codable {
        public var slot: Int
        public var from: String
        public var to: String
    }

    public struct Close: Sendable, Equatable, Codable {
        public var slot: Int
        /// Node whose importing/migrating state is cleared.
        public var node: String
        /// Where keys it holds in the slot go first (the owner), for importing nodes and for a source left
        /// migrating a slot its target already owns.
        public var owner: String?

        public init(slot: Int, node: String, owner: String?) {
            self.slot = slot
            self.node = node
            self.owner = owner
        }
    }

    public struct Unfixable: Sendable, Equatable, Codable {
        public var slot: Int
        public var reason: String
    }

    /// A master that owns slots, cannot be reached, and has no reachable replica to take over: its slots are
    /// served by nobody, and their keys are out of reach until one of these nodes comes back.
    public struct DownShard: Sendable, Equatable, Codable {
        public var slots: SlotSet
        /// The dead master's id.
        public var master: String
        public var masterAddress: String
        public var replicaAddresses: [String]

        public init(slots: SlotSet, master: String, masterAddress: String, replicaAddresses: [String]) {
            self.slots = slots
            self.master = master
            self.masterAddress = masterAddress
            self.replicaAddresses = replicaAddresses
        }
    }

    /// A member the cluster has flagged as failed that no longer owns slots (a master whose replica took over,
    /// a dead replica): nothing is lost by forgetting it, and while it is listed the cluster's check reports it.
    public struct DeadMember: Sendable, Equatable, Codable {
        public var id: String
        public var address: String

        public init(id: String, address: String) {
            self.id = id
            self.address = address
        }
    }

    /// Open slots to finish moving (one node migrating, its peer importing).
    public var continueMigrations: [Migration]
    /// Open slots to close.
    public var closeSlots: [Close]
    /// Slots no master owns; the owner is chosen when the fix runs, from where their keys are. Slots of down
    /// shards are not among them: they are in `downShards`.
    public var uncoveredSlots: SlotSet
    public var downShards: [DownShard]
    public var unfixable: [Unfixable]
    /// Forgotten by every live node once the open slots are closed: an importing node forgets its open state
    /// towards a forgotten peer, so closing first keeps the keys it holds reachable.
    public var forgetNodes: [DeadMember]

    public var isEmpty: Bool {
        continueMigrations.isEmpty && closeSlots.isEmpty && uncoveredSlots.isEmpty && downShards.isEmpty && unfixable.isEmpty
            && forgetNodes.isEmpty
    }

    public static func make(from topology: ClusterTopology) -> FixPlan {
        let (downShards, awaiting) = unreachableShards(topology)
        let notToCover = (downShards.map(\.slots) + awaiting.map(\.slots)).reduce(SlotSet()) { $0.union($1) }
        var plan = FixPlan(continueMigrations: [], closeSlots: [], uncoveredSlots: topology.checks.uncoveredSlots.subtracting(notToCover),
                           downShards: downShards, unfixable: [], forgetNodes: deadMembers(topology))
        for shard in awaiting {
            plan.unfixable.append(Unfixable(slot: shard.slots.lowest ?? 0, reason:
                "slots \(shard.slots): master \(shard.masterAddress) is down and its replica \(shard.replicaAddresses.joined(separator: ", ")) "
                + "has not taken over yet; wait for the automatic failover, or run a failover job with mode takeover"))
        }
        let openSlots = Set(topology.checks.openSlots.map(\.slot)).sorted()
        for slot in openSlots {
            let migrating = topology.nodes.compactMap { node in node.migrating?[slot].map { (node.id, $0) } }
            let importing = topology.nodes.compactMap { node in node.importing?[slot].map { (node.id, $0) } }
            let ownerNode = topology.nodes.first { $0.isMaster && $0.slots.contains(slot) }
            let owner = ownerNode?.id
            if let ownerNode, !ownerNode.reachable {
                // The owner is down: its shard is covered (down), or waits for its replica (unfixable), above. Keys an
                // importing node holds are kept: forgetting the owner clears the open state, and covering gives the
                // slot to the one master that holds its keys.
                continue
            }
            if migrating.count == 1, importing.count == 1, migrating[0].1 == importing[0].0, importing[0].1 == migrating[0].0 {
                plan.continueMigrations.append(Migration(slot: slot, from: migrating[0].0, to: importing[0].0))
            } else if migrating.count == 1, importing.isEmpty, owner == migrating[0].0,
                      let peer = topology.node(id: migrating[0].1), !peer.reachable,
                      let replica = peer.replicas.compactMap({ topology.node(id: $0) }).first(where: \.reachable) {
                // The importing side died, and its replica, which received the keys moved so far, has not taken over:
                // closing now would strand those keys on it once it does.
                plan.unfixable.append(Unfixable(slot: slot, reason:
                    "slot \(slot): \(peer.address), which was importing it, is down and its replica \(replica.address) has not taken "
                    + "over yet; wait for the automatic failover, or run a failover job with mode takeover, then fix again"))
            } else if migrating.count == 1, importing.isEmpty, owner == migrating[0].0 {
                plan.closeSlots.append(Close(slot: slot, node: migrating[0].0, owner: nil))
            } else if migrating.count == 1, importing.isEmpty, let owner, owner == migrating[0].1 {
                // The target took the slot (its SETSLOT NODE went through, the source's did not: a node that froze
                // or died between the two). Keys still on the source go to the owner, then the source is closed.
                plan.closeSlots.append(Close(slot: slot, node: migrating[0].0, owner: owner))
            } else if migrating.isEmpty, !importing.isEmpty, let owner {
                for (node, _) in importing where node != owner {
                    plan.closeSlots.append(Close(slot: slot, node: node, owner: owner))
                }
            } else {
                plan.unfixable.append(Unfixable(slot: slot, reason:
                    "slot \(slot) is migrating on \(migrating.count) node(s) and importing on \(importing.count) with owner \(owner ?? "none"); resolve it by hand"))
            }
        }
        return plan
    }

    /// Unreachable nodes that a reachable node flags `fail` and that own no slots. One merely unreachable from
    /// here, that the cluster still sees alive, is not dead.
    private static func deadMembers(_ topology: ClusterTopology) -> [DeadMember] {
        let failing = Set(topology.checks.failingNodes)
        return topology.nodes.filter { !$0.reachable && $0.slots.isEmpty && failing.contains($0.address) }
            .map { DeadMember(id: $0.id, address: $0.address) }
    }

    /// Slot-owning masters we could not read, split by their replicas. `down`: no replica answered either, so
    /// nobody serves the slots (a master merely flagged failing that still answers is not down). `awaitingFailover`:
    /// a replica answers and takes over with the keys intact (by itself, or by a failover job), so covering their
    /// slots with empty ones would be wrong; its `replicaAddresses` are the live replicas only.
    private static func unreachableShards(_ topology: ClusterTopology) -> (down: [DownShard], awaitingFailover: [DownShard]) {
        var down: [DownShard] = []
        var awaiting: [DownShard] = []
        for master in topology.masters where !master.reachable && !master.slots.isEmpty {
            let replicas = master.replicas.compactMap { topology.node(id: $0) }
            let live = replicas.filter(\.reachable)
            let shard = DownShard(slots: master.slots, master: master.id, masterAddress: master.address,
                                  replicaAddresses: (live.isEmpty ? replicas : live).map(\.address))
            if live.isEmpty {
                down.append(shard)
            } else {
                awaiting.append(shard)
            }
        }
        return (down, awaiting)
    }
}
