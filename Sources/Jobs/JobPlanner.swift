import ClusterModel
import ClusterOps
import RESP

/// Turns a request into a plan against a live topology: node references resolved, the model's planners run,
/// and every impossibility reported as `.impossible` (the API's 422) before anything is touched.
public enum JobPlanner {
    /// `seeds` are the registered addresses (the nodes `create` forms a cluster from).
    public static func plan(_ params: JobParams, topology: ClusterTopology, seeds: [String]) throws(ClusterOpsError) -> JobPlan {
        switch params {
        case .create(let replicas): return try create(replicas: replicas, topology: topology, seeds: seeds)
        case .addNode(let address, let role, let master): return try addNode(address, role: role, master: master, topology: topology)
        case .reshard(let to, let source, _): return try reshard(to: to, source: source, topology: topology)
        case .rebalance(let weights, let threshold, let useEmpty, _):
            return try rebalance(weights: weights, threshold: threshold, useEmpty: useEmpty, topology: topology)
        case .delNode(let node, _): return try delNode(node, topology: topology)
        case .fix:
            let fix = FixPlan.make(from: topology)
            let summary = fix.isEmpty ? "nothing to fix"
                : "finish \(fix.continueMigrations.count) migrations, close \(fix.closeSlots.count) open slots, cover \(fix.uncoveredSlots.count) slots"
            return JobPlan(summary: summary, fix: fix)
        case .failover(let replica, let mode): return try failover(replica, mode: mode, topology: topology)
        case .setTimeout(let milliseconds):
            let nodes = topology.nodes.filter(\.reachable).map(\.address)
            return JobPlan(summary: "set cluster-node-timeout to \(milliseconds) ms on \(nodes.count) nodes",
                           nodeTimeoutMs: milliseconds, nodes: nodes)
        }
    }

    /// A node by 40-hex id or host:port.
    public static func resolve(_ reference: String, in topology: ClusterTopology) throws(ClusterOpsError) -> TopologyNode {
        if let node = topology.nodes.first(where: { $0.id == reference.lowercased() }) { return node }
        let wanted = RedisEndpoint(reference)?.description ?? reference
        if let node = topology.nodes.first(where: { $0.address == wanted }) { return node }
        throw .impossible("unknown node '\(reference)': not an id or address of this cluster's nodes")
    }

    // MARK: - Per type

    static func create(replicas: Int, topology: ClusterTopology, seeds: [String]) throws(ClusterOpsError) -> JobPlan {
        if topology.summary.slotsAssigned > 0 {
            throw .impossible("the nodes already serve \(topology.summary.slotsAssigned) slots; create needs empty nodes")
        }
        for seed in seeds {
            guard let node = topology.nodes.first(where: { $0.address == seed }), node.reachable else {
                throw .impossible("registered node \(seed) is not reachable")
            }
            if let keys = node.keys, keys > 0 { throw .impossible("\(seed) holds \(keys) keys; create needs empty nodes") }
        }
        if let stranger = topology.nodes.first(where: { !seeds.contains($0.address) }) {
            throw .impossible("\(stranger.address) already belongs to a cluster with the registered nodes; create needs lone nodes")
        }
        let plan: CreatePlan
        do {
            plan = try CreatePlanner.plan(addresses: seeds, replicas: replicas)
        } catch {
            throw .impossible(error.description)
        }
        return JobPlan(summary: "form a cluster of \(plan.masters.count) masters and \(plan.replicas.count) replicas",
                       create: plan, nodes: seeds)
    }

    static func addNode(_ address: String, role: JobParams.NodeRole, master: String?, topology: ClusterTopology) throws(ClusterOpsError) -> JobPlan {
        if let member = topology.nodes.first(where: { $0.address == address }) {
            throw .impossible("\(address) is already a member of this cluster (node \(member.id))")
        }
        guard topology.nodes.contains(where: \.reachable) else { throw .impossible("no node of the cluster is reachable") }
        var change = JobPlan.NodeChange(id: nil, address: address, role: role.rawValue, masterId: nil, masterAddress: nil)
        if role == .replica {
            let chosen: TopologyNode
            if let master {
                chosen = try resolve(master, in: topology)
                guard chosen.isMaster else { throw .impossible("\(master) is a replica; a replica needs a master") }
            } else {
                // The master with the fewest replicas, as redis-cli picks.
                let masters = topology.masters.filter { !$0.flags.contains("fail") }
                guard let fewest = masters.min(by: { ($0.replicas.count, $0.address) < ($1.replicas.count, $1.address) }) else {
                    throw .impossible("the cluster has no master to replicate")
                }
                chosen = fewest
            }
            change.masterId = chosen.id
            change.masterAddress = chosen.address
            return JobPlan(summary: "add \(address) as a replica of \(chosen.address)", node: change)
        }
        return JobPlan(summary: "add \(address) as an empty master", node: change)
    }

    static func reshard(to: String, source: JobParams.ReshardSource, topology: ClusterTopology) throws(ClusterOpsError) -> JobPlan {
        let target = try resolve(to, in: topology)
        guard target.isMaster else { throw .impossible("\(to) is a replica; slots can only move to a master") }
        let masters = topology.masters.map { MasterSlots(id: $0.id, address: $0.address, slots: $0.slots) }
        let moves: [SlotMove]
        do {
            switch source {
            case .ranges(let slots):
                moves = try ReshardPlanner.plan(slots: slots, target: target.id, owners: masters)
            case .count(let count, let from):
                var sources: [MasterSlots]
                if let from {
                    sources = []
                    for reference in from {
                        let node = try resolve(reference, in: topology)
                        guard node.isMaster else { throw ClusterOpsError.impossible("source \(reference) is a replica") }
                        guard node.id != target.id else { throw ClusterOpsError.impossible("source \(reference) is the target") }
                        sources.append(MasterSlots(id: node.id, address: node.address, slots: node.slots))
                    }
                } else {
                    sources = masters.filter { $0.id != target.id && !$0.slots.isEmpty }
                }
                moves = try ReshardPlanner.plan(sources: sources, target: target.id, count: count)
            }
        } catch let error as ClusterOpsError {
            throw error
        } catch let error as ClusterModelError {
            throw .impossible(error.description)
        } catch {
            throw .impossible("\(error)")
        }
        let plan = JobPlan(summary: "", moves: planned(moves, topology))
        var result = plan
        result.summary = "move \(plan.slotsTotal) slots to \(target.address)"
        return result
    }

    static func rebalance(weights: [String: Double], threshold: Double, useEmpty: Bool, topology: ClusterTopology) throws(ClusterOpsError) -> JobPlan {
        var byId: [String: Double] = [:]
        for (reference, weight) in weights {
            let node = try resolve(reference, in: topology)
            guard node.isMaster else { throw .impossible("weight given for \(reference), which is a replica") }
            byId[node.id] = weight
        }
        let masters = topology.masters.map { MasterSlots(id: $0.id, address: $0.address, slots: $0.slots) }
        let moves: [SlotMove]
        do {
            moves = try RebalancePlanner.plan(masters: masters, weights: byId, thresholdPercent: threshold, useEmptyMasters: useEmpty)
        } catch {
            throw .impossible(error.description)
        }
        var plan = JobPlan(summary: "", moves: planned(moves, topology))
        plan.summary = moves.isEmpty ? "already balanced within \(threshold)%" : "move \(plan.slotsTotal) slots to balance \(masters.count) masters"
        return plan
    }

    static func delNode(_ reference: String, topology: ClusterTopology) throws(ClusterOpsError) -> JobPlan {
        let node = try resolve(reference, in: topology)
        let otherMasters = topology.masters.filter { $0.id != node.id && !$0.flags.contains("fail") }
        var moves: [SlotMove] = []
        var reassign: [JobPlan.Reassignment] = []
        if node.isMaster {
            guard !otherMasters.isEmpty else { throw .impossible("\(node.address) is the last master; it cannot be removed") }
            if !node.slots.isEmpty {
                let owning = otherMasters.filter { !$0.slots.isEmpty }
                let receivers = (owning.isEmpty ? otherMasters : owning).map { MasterSlots(id: $0.id, address: $0.address, slots: $0.slots) }
                do {
                    moves = try DrainPlanner.plan(drain: MasterSlots(id: node.id, address: node.address, slots: node.slots), to: receivers)
                } catch {
                    throw .impossible(error.description)
                }
            }
            var replicaCounts = Dictionary(uniqueKeysWithValues: otherMasters.map { ($0.id, $0.replicas.count) })
            for replicaId in node.replicas {
                guard let replica = topology.node(id: replicaId) else { continue }
                let master = otherMasters.min { (replicaCounts[$0.id] ?? 0, $0.address) < (replicaCounts[$1.id] ?? 0, $1.address) }!
                replicaCounts[master.id, default: 0] += 1
                reassign.append(JobPlan.Reassignment(replica: replicaId, replicaAddress: replica.address,
                                                     master: master.id, masterAddress: master.address))
            }
        }
        let change = JobPlan.NodeChange(id: node.id, address: node.address, role: node.role, masterId: node.masterId,
                                        masterAddress: node.masterId.flatMap { topology.node(id: $0)?.address })
        var plan = JobPlan(summary: "", moves: planned(moves, topology), node: change, reassign: reassign)
        plan.summary = moves.isEmpty ? "remove \(node.role) \(node.address)"
            : "drain \(node.slotCount) slots from \(node.address) to \(Set(moves.map(\.to)).count) masters, then remove it"
        return plan
    }

    static func failover(_ reference: String, mode: FailoverRunner.Mode, topology: ClusterTopology) throws(ClusterOpsError) -> JobPlan {
        let node = try resolve(reference, in: topology)
        guard !node.isMaster, let masterId = node.masterId else {
            throw .impossible("\(node.address) is a master; fail over through one of its replicas")
        }
        let change = JobPlan.NodeChange(id: node.id, address: node.address, role: node.role, masterId: masterId,
                                        masterAddress: topology.node(id: masterId)?.address)
        return JobPlan(summary: "promote \(node.address) (\(mode.rawValue))", node: change, failoverMode: mode)
    }

    static func planned(_ moves: [SlotMove], _ topology: ClusterTopology) -> [JobPlan.Move] {
        moves.map { move in
            JobPlan.Move(from: move.from, fromAddress: topology.node(id: move.from)?.address ?? "",
                         to: move.to, toAddress: topology.node(id: move.to)?.address ?? "",
                         slots: move.slots, count: move.slots.count)
        }
    }
}
