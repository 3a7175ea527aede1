/// Merges what several nodes reported into one topology and runs redis-cli's cluster checks on it.
public enum TopologyBuilder {
    public static func build(_ observations: [NodeObservation]) -> ClusterTopology {
        let views = observations.filter { $0.nodes != nil }
        let failed = observations.filter { $0.nodes == nil }

        // A node's own line is authoritative for itself; the first reachable observation of it wins.
        var own: [String: NodeObservation] = [:]
        for view in views {
            if let me = view.myself, own[me.id] == nil {
                own[me.id] = view
            }
        }

        // Entries about each node as seen by others, in first-seen order for determinism.
        var order: [String] = []
        var reports: [String: [ClusterNodeEntry]] = [:]
        for view in views {
            for entry in view.nodes ?? [] where !entry.isMyself && !isJunk(entry) {
                if reports[entry.id] == nil { order.append(entry.id) }
                reports[entry.id, default: []].append(entry)
            }
        }
        for id in own.keys.sorted() where reports[id] == nil {
            order.append(id)
        }

        let flagged = flaggedNodes(views)
        var failures: [String: NodeObservation] = [:]
        for observation in failed where failures[observation.address] == nil {
            failures[observation.address] = observation
        }
        var built: [TopologyNode] = []
        for id in order {
            let ownView = own[id]
            guard let entry = ownView?.myself ?? majority(reports[id] ?? []) else { continue }
            // A node that has never been met does not know its own IP ("":port): the address we reached it at is it.
            let address = entry.host.isEmpty ? (ownView?.address ?? entry.address) : entry.address
            let failure = ownView == nil ? failures[entry.address] : nil
            built.append(TopologyNode(
                id: id,
                address: address,
                role: entry.isReplica ? "replica" : "master",
                masterId: entry.masterId,
                slots: entry.slots,
                keys: ownView?.keys,
                flags: entry.flags.filter { $0 != "myself" },
                linkState: entry.linkState,
                configEpoch: entry.configEpoch,
                reachable: ownView != nil,
                clusterState: ownView?.clusterState,
                replicas: [],
                importing: ownView != nil && !entry.importing.isEmpty ? entry.importing : nil,
                migrating: ownView != nil && !entry.migrating.isEmpty ? entry.migrating : nil,
                error: failure?.error,
                server: ownView?.server))
        }
        let nodes = ordered(built)
        let checks = check(
            nodes: nodes, views: views, unreachable: failed.map(\.address), flagged: flagged)
        let masters = nodes.filter(\.isMaster)
        let summary = ClusterTopology.Summary(
            masters: masters.count,
            replicas: nodes.count - masters.count,
            keys: masters.reduce(0) { $0 + ($1.keys ?? 0) },
            slotsAssigned: masters.reduce(SlotSet()) { $0.union($1.slots) }.count)
        return ClusterTopology(nodes: nodes, checks: checks, summary: summary)
    }

    /// Handshake entries carry throwaway ids; slotless noaddr entries are forgotten nodes with nothing to say.
    private static func isJunk(_ entry: ClusterNodeEntry) -> Bool {
        entry.inHandshake || (entry.hasNoAddress && entry.slots.isEmpty)
    }

    /// The most common (role, master, slots) claim among others' views; ties go to the newest config epoch.
    private static func majority(_ entries: [ClusterNodeEntry]) -> ClusterNodeEntry? {
        struct Claim: Hashable {
            var isReplica: Bool
            var masterId: String?
            var slots: SlotSet
        }
        let claim = { (entry: ClusterNodeEntry) in
            Claim(isReplica: entry.isReplica, masterId: entry.masterId, slots: entry.slots)
        }
        let claims = entries.map(claim)
        var votes: [Claim: Int] = [:]
        for claim in claims {
            votes[claim, default: 0] += 1
        }
        // Each entry's vote count is looked up once, not once per comparison.
        let counts = claims.map { votes[$0] ?? 0 }
        var best: Int?
        for index in entries.indices {
            guard let current = best else {
                best = index
                continue
            }
            if counts[index] > counts[current]
                || (counts[index] == counts[current] && entries[index].configEpoch > entries[current].configEpoch) {
                best = index
            }
        }
        return best.map { entries[$0] }
    }

    /// Masters by lowest slot (slotless ones by address), each followed by its replicas; orphans last.
    private static func ordered(_ nodes: [TopologyNode]) -> [TopologyNode] {
        let byAddress = nodes.sorted { $0.address < $1.address }
        let masters = byAddress.filter(\.isMaster).sorted {
            (($0.slots.lowest ?? Int.max), $0.address) < (($1.slots.lowest ?? Int.max), $1.address)
        }
        let masterIds = Set(masters.map(\.id))
        var replicasOf: [String: [TopologyNode]] = [:]
        for node in byAddress where !node.isMaster {
            replicasOf[node.masterId ?? "", default: []].append(node)
        }
        var result: [TopologyNode] = []
        for var master in masters {
            let replicas = replicasOf[master.id] ?? []
            master.replicas = replicas.map(\.id)
            result.append(master)
            result.append(contentsOf: replicas)
        }
        result.append(contentsOf: byAddress.filter { !$0.isMaster && !masterIds.contains($0.masterId ?? "") })
        return result
    }

    /// Ids flagged `fail` / `fail?` by any reachable node about another node.
    private static func flaggedNodes(_ views: [NodeObservation]) -> (failing: Set<String>, possibly: Set<String>) {
        var failing: Set<String> = []
        var possibly: Set<String> = []
        for view in views {
            for entry in view.nodes ?? [] where !entry.isMyself {
                if entry.isFailing { failing.insert(entry.id) }
                if entry.isPossiblyFailing { possibly.insert(entry.id) }
            }
        }
        return (failing, possibly.subtracting(failing))
    }
}
