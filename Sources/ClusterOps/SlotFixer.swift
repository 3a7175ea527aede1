import ClusterModel
import RESP

/// Carries out a FixPlan in the order that lets each step work: uncovered slots are covered first (each by the
/// master that holds its keys, keyless ones spread over the masters), the cluster is given time to report
/// cluster_state:ok, and only then are open slots finished or closed, because moving keys needs a cluster that
/// serves requests. Shards with no live node are refused unless the caller accepts losing their keys.
public struct SlotFixer {
    let session: ClusterSession
    let options: MigrationOptions
    let observer: any OperationObserver

    public init(session: ClusterSession, options: MigrationOptions, observer: any OperationObserver) {
        self.session = session
        self.options = options
        self.observer = observer
    }

    /// `acceptDataLoss` lets the fix cover the slots of down shards with empty ones; without it a down shard
    /// fails the fix with `.shardDown` before anything is touched.
    public func run(_ plan: FixPlan, topology: ClusterTopology, acceptDataLoss: Bool) throws(ClusterOpsError) {
        let lost = plan.downShards.reduce(SlotSet()) { $0.union($1.slots) }
        if !plan.downShards.isEmpty && !acceptDataLoss {
            throw .shardDown(slots: lost, nodes: plan.downShards.flatMap { [$0.masterAddress] + $0.replicaAddresses })
        }
        let addresses = Dictionary(topology.nodes.map { ($0.id, $0.address) }, uniquingKeysWith: { first, _ in first })
        let liveMasters = topology.masters.filter(\.reachable)
        func address(_ id: String) throws(ClusterOpsError) -> String {
            guard let address = addresses[id] else { throw .impossible("node \(id) is not in the cluster") }
            return address
        }

        let toCover = plan.uncoveredSlots.union(lost)
        if !toCover.isEmpty {
            // Decided before anything changes, so a slot whose keys sit on two masters stops the fix untouched.
            let assignment = try owners(for: toCover, masters: liveMasters)
            if !plan.downShards.isEmpty {
                try forgetDeadNodes(plan.downShards, topology: topology)
            }
            observer.step("covering \(toCover.count) slots")
            for (master, slots) in assignment {
                try session.addSlots(master, slots)
                // The newest epoch wins slot conflicts: a dead master that comes back with its old claim loses.
                try session.bumpEpoch(master)
                let how = slots.intersection(lost).isEmpty ? "" : " (\(slots.intersection(lost).count) of them empty, their keys lost)"
                observer.event("assigned slots \(slots) to \(master)\(how)", node: master)
            }
            observer.step("waiting until every node reports cluster_state:ok")
            try session.waitUntil("every reachable node reports cluster_state:ok", timeout: 60) { () throws(ClusterOpsError) -> Bool in
                session.topology().1.allSatisfy { $0.nodes == nil || $0.clusterState == "ok" }
            }
        }

        observer.step("closing open slots")
        try repointImportingNodes(plan.closeSlots, addresses: addresses)
        let migrator = SlotMigrator(session: session, options: options, observer: observer)
        for migration in plan.continueMigrations {
            _ = try migrator.run(SlotMove(from: migration.from, to: migration.to, slots: SlotSet([migration.slot])),
                                 addresses: addresses, masters: liveMasters.map(\.address))
            observer.event("finished moving slot \(migration.slot) to \(try address(migration.to))", node: try address(migration.from))
        }
        // Importing node that does not answer → slots closed without it.
        var outOfReach: [String: [Int]] = [:]
        for close in plan.closeSlots {
            let node = try address(close.node)
            if let owner = close.owner {
                if topology.node(id: close.node)?.importing?[close.slot] == nil,
                   (try session.call(node, ["CLUSTER", "COUNTKEYSINSLOT", "\(close.slot)"], idempotent: true).int ?? 0) > 0 {
                    // A former source left holding keys of a slot it no longer owns: opening the slot as importing
                    // is what lets ASKING reach them, to move them to the owner.
                    try session.call(node, ["CLUSTER", "SETSLOT", "\(close.slot)", "IMPORTING", owner], idempotent: true)
                }
                try moveKeysBack(slot: close.slot, from: node, to: try address(owner))
            } else if let peer = topology.node(id: close.node)?.migrating?[close.slot], let peerAddress = addresses[peer] {
                if topology.node(id: peer)?.reachable != true {
                    // The importing side is dead or frozen: what reached it is out of reach. Closing here loses
                    // nothing more: if it comes back with those keys, its importing state lets a later fix move them
                    // back to the owner. A replica of it that took over has them too, and gives them back now, to a
                    // source closed first (while it migrates the slot, it answers ASK to keys it lacks).
                    try session.call(node, ["CLUSTER", "SETSLOT", "\(close.slot)", "STABLE"], idempotent: true)
                    if try !rescueKeys(slot: close.slot, owner: close.node, from: liveMasters, addresses: addresses) {
                        outOfReach[peerAddress, default: []].append(close.slot)
                    }
                } else if (try session.call(peerAddress, ["CLUSTER", "COUNTKEYSINSLOT", "\(close.slot)"], idempotent: true).int ?? 0) > 0 {
                    throw .failed("slot \(close.slot): \(peerAddress) holds keys of it but is not importing it; resolve it by hand")
                }
            }
            try session.call(node, ["CLUSTER", "SETSLOT", "\(close.slot)", "STABLE"], idempotent: true)
            observer.event("slot \(close.slot) set stable", node: node)
        }

        for (peer, slots) in outOfReach.sorted(by: { $0.key < $1.key }) {
            observer.event("slots \(SlotSet(slots)) closed without \(peer), which was importing them and does not answer: keys that "
                           + "had moved there are out of reach until it comes back", node: peer)
        }

        if !plan.forgetNodes.isEmpty {
            forgetDeadMembers(plan.forgetNodes, topology: topology)
        }

        if !plan.unfixable.isEmpty {
            throw .impossible(plan.unfixable.map(\.reason).joined(separator: "; "))
        }
    }

    /// An importing node whose peer died keeps the dead peer as the slot's owner: while a slot is importing, Redis
    /// ignores what gossip says about its owner, so the replica that took over is never learnt there. The node
    /// then sees a slot served by a failed master, reports cluster_state:fail, and answers CLUSTERDOWN to the
    /// MIGRATEs that would empty it. Each such node is told the owner (SETSLOT NODE leaves the importing state in
    /// place, so ASKING still reaches its keys), and the fix waits until it serves again.
    private func repointImportingNodes(_ closes: [FixPlan.Close], addresses: [String: String]) throws(ClusterOpsError) {
        // node → (owner, the owner it still names) → slots, for one event per group.
        var repointed: [String: [String: [Int]]] = [:]
        var views: [String: [ClusterNodeEntry]] = [:]
        for close in closes {
            guard let owner = close.owner, let node = addresses[close.node] else { continue }
            let view: [ClusterNodeEntry]
            if let known = views[node] {
                view = known
            } else {
                view = try session.view(node).nodes
                views[node] = view
            }
            let believed = view.first { $0.slots.contains(close.slot) }
            guard believed?.id != owner else { continue }
            // SETSLOT NODE refuses a node it still knows as a replica: wait until it has learnt the promotion.
            try session.waitUntil("\(node) knows \(addresses[owner] ?? owner) as a master", timeout: 30) { () throws(ClusterOpsError) -> Bool in
                try session.view(node).nodes.contains { $0.id == owner && $0.isMaster }
            }
            try session.call(node, ["CLUSTER", "SETSLOT", "\(close.slot)", "NODE", owner], idempotent: true)
            repointed[node, default: [:]]["\(addresses[owner] ?? owner) (it still named \(believed?.address ?? "nobody"))", default: []]
                .append(close.slot)
        }
        for (node, groups) in repointed.sorted(by: { $0.key < $1.key }) {
            for (owner, slots) in groups.sorted(by: { $0.key < $1.key }) {
                observer.event("told \(node) that slots \(SlotSet(slots)) belong to \(owner)", node: node)
            }
        }
        for node in repointed.keys.sorted() {
            try session.waitUntil("\(node) reports cluster_state:ok", timeout: 30) { () throws(ClusterOpsError) -> Bool in
                (try session.call(node, ["CLUSTER", "INFO"], idempotent: true).string ?? "").contains("cluster_state:ok")
            }
        }
    }

    /// Keys of `slot` held by live masters that do not own it go to its owner; true if any did. A replica that
    /// took over from a dead target got, through replication, the keys moved to it while the slot was open, but not
    /// the open state: opening the slot as importing on it is what lets ASKING reach them.
    private func rescueKeys(slot: Int, owner: String, from masters: [TopologyNode], addresses: [String: String]) throws(ClusterOpsError) -> Bool {
        guard let ownerAddress = addresses[owner] else { return false }
        var rescued = false
        for master in masters where master.id != owner && !master.slots.contains(slot) {
            guard (try session.call(master.address, ["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"], idempotent: true).int ?? 0) > 0 else { continue }
            try session.call(master.address, ["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", owner], idempotent: true)
            try moveKeysBack(slot: slot, from: master.address, to: ownerAddress)
            try session.call(master.address, ["CLUSTER", "SETSLOT", "\(slot)", "STABLE"], idempotent: true)
            observer.event("slot \(slot): \(master.address) held keys of it without owning it (received before it took over); "
                           + "they went to its owner \(ownerAddress)", node: master.address)
            rescued = true
        }
        return rescued
    }

    /// Every live node forgets the members the cluster flags as failed and that own nothing (a master whose
    /// replica took over, a dead replica), which leaves the check clean. A forgotten node that comes back does not
    /// rejoin by itself: it is added again (add-node). A node that refuses is reported and left; it does not fail
    /// the fix, whose slots are already repaired.
    private func forgetDeadMembers(_ members: [FixPlan.DeadMember], topology: ClusterTopology) {
        observer.step("forgetting \(members.count) failed node(s) that own no slots")
        let gone = Set(members.map(\.id))
        for member in members {
            var refused: [String] = []
            for node in topology.nodes where node.reachable && !gone.contains(node.id) {
                do {
                    try session.forget(node.address, nodeId: member.id)
                } catch {
                    refused.append("\(node.address) (\(error))")
                }
            }
            observer.event(refused.isEmpty ? "every live node forgot \(member.address), failed and owning no slots"
                                           : "\(member.address) not forgotten by \(refused.joined(separator: ", "))", node: member.address)
        }
    }

    /// Which live master takes which slots: a slot with keys goes to the one master holding them; keyless slots
    /// are split in runs over the masters, fewest slots first. Keys on several masters are refused.
    private func owners(for slots: SlotSet, masters: [TopologyNode]) throws(ClusterOpsError) -> [(String, SlotSet)] {
        guard !masters.isEmpty else { throw .impossible("no reachable master is left to take slots \(slots)") }
        let list = slots.slots
        var holders: [Int: [String]] = [:]
        for master in masters {
            let counts = try session.pipelineAll(master.address, list.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] }, idempotent: true)
            for (slot, count) in zip(list, counts) where (count.int ?? 0) > 0 {
                holders[slot, default: []].append(master.address)
            }
        }
        if let slot = holders.keys.sorted().first(where: { holders[$0]!.count > 1 }) {
            throw .impossible("slot \(slot) is uncovered and \(holders[slot]!.joined(separator: ", ")) all hold keys of it; "
                + "keep the right copy, delete the others, and run fix again")
        }
        var assignment: [String: [Int]] = [:]
        let keyless = list.filter { holders[$0] == nil }
        for slot in list where holders[slot] != nil {
            assignment[holders[slot]![0], default: []].append(slot)
        }
        let takers = masters.sorted { ($0.slotCount, $0.address) < ($1.slotCount, $1.address) }
        var start = 0
        for (index, taker) in takers.enumerated() {
            let share = keyless.count / takers.count + (index < keyless.count % takers.count ? 1 : 0)
            assignment[taker.address, default: []] += keyless[start..<(start + share)]
            start += share
        }
        return assignment.filter { !$0.value.isEmpty }.map { ($0.key, SlotSet($0.value)) }.sorted { $0.0 < $1.0 }
    }

    /// Every live node forgets the dead masters and their dead replicas, which leaves their slots unassigned
    /// everywhere, so live masters may claim them. Redis refuses ADDSLOTS for a slot another node owns, dead or
    /// not; forgetting also stops the dead nodes from counting as failing members.
    private func forgetDeadNodes(_ shards: [FixPlan.DownShard], topology: ClusterTopology) throws(ClusterOpsError) {
        observer.step("forgetting the nodes of \(shards.count) down shard(s)")
        let deadIds = shards.flatMap { shard in
            [shard.master] + topology.nodes.filter { $0.masterId == shard.master && !$0.reachable }.map(\.id)
        }
        // A node keeps a forgotten id off its table for 60 s only: forget everywhere before anyone re-learns it.
        for node in topology.nodes where node.reachable {
            for id in deadIds {
                try session.forget(node.address, nodeId: id)
            }
        }
        for shard in shards {
            observer.event("every live node forgot \(shard.masterAddress) and its replicas; slots \(shard.slots) are unassigned",
                           node: shard.masterAddress)
        }
    }

    /// Keys an importing node holds in a slot it does not own go back to the owner (ASKING lets it serve them).
    /// A key the owner holds too (a replica that took over may still have a copy whose deletion it never
    /// received) is replaced when both copies are equal, or with `replace`; different copies are reported.
    private func moveKeysBack(slot: Int, from node: String, to owner: String) throws(ClusterOpsError) {
        guard let endpoint = RedisEndpoint(owner) else { throw .impossible("bad address \(owner)") }
        var conflicts: Set<[UInt8]> = []
        var emptied = false
        for _ in 0..<100_000 where !emptied {
            let keys = (try session.call(node, ["CLUSTER", "GETKEYSINSLOT", "\(slot)", "\(options.keysPerMigrate + conflicts.count)"],
                                         idempotent: true).array ?? []).compactMap(\.bytes).filter { !conflicts.contains($0) }
            if keys.isEmpty {
                emptied = true
                continue
            }
            do {
                try migrateAsking(keys, from: node, to: endpoint, replace: options.replace)
            } catch .redis(_, let error) where error.isBusyKey {
                for key in keys {
                    do {
                        try migrateAsking([key], from: node, to: endpoint, replace: options.replace)
                    } catch .redis(_, let error) where error.isBusyKey {
                        if try sameValue(key, importing: node, owner: owner) {
                            try migrateAsking([key], from: node, to: endpoint, replace: true)
                        } else {
                            conflicts.insert(key)
                        }
                    }
                }
            }
            observer.event("moved \(keys.count) keys of slot \(slot) back to its owner \(owner)", node: node)
        }
        if !conflicts.isEmpty {
            throw .busyKeys(slot: slot, keys: conflicts.map { String(decoding: $0, as: UTF8.self) }.sorted())
        }
        if !emptied { throw .failed("slot \(slot): keys kept appearing on \(node)") }
    }

    private func migrateAsking(_ keys: [[UInt8]], from node: String, to endpoint: RedisEndpoint, replace: Bool) throws(ClusterOpsError) {
        let migrate = session.migrateCommand(keys, to: endpoint, options: options, replace: replace)
        let connection = try session.connection(node)
        do {
            _ = try connection.pipeline([[Array("ASKING".utf8)], migrate])[1].get()
        } catch {
            throw .redis(endpoint: node, error)
        }
    }

    /// Equal serialized values (DUMP) on the owner and, with ASKING, on the importing node.
    private func sameValue(_ key: [UInt8], importing node: String, owner: String) throws(ClusterOpsError) -> Bool {
        let there = try session.call(owner, bytes: [Array("DUMP".utf8), key], idempotent: true)
        let connection = try session.connection(node)
        let here: RESPValue
        do {
            here = try connection.pipeline([[Array("ASKING".utf8)], [Array("DUMP".utf8), key]])[1].get()
        } catch {
            throw .redis(endpoint: node, error)
        }
        return here == there && here != .null
    }
}
