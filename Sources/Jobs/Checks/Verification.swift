import ClusterModel
import ClusterOps

/// What a finished job must have left behind, beyond what every job must (nodes agree, no slot open, replicas in
/// sync): its own kind's post-conditions. Nodes are named by id or address (a node added by the job has no id in
/// its plan).
public struct Expectations: Sendable {
    /// node → slots it must own.
    public var owners: [(node: String, slots: SlotSet)] = []
    /// Slots moved away from a node (address): none of their keys may be left there.
    public var movedAway: [(node: String, slots: SlotSet)] = []
    /// Nodes that must be members as masters.
    public var masters: [String] = []
    /// Nodes that must be members as replicas of the given master.
    public var replicas: [(node: String, master: String)] = []
    /// Node ids that must no longer be members.
    public var absent: [String] = []
    /// Every one of the 16 384 slots must have an owner.
    public var allSlotsCovered = false

    public init() {}
}

/// The proof a job ends with, stored with it: each post-condition, whether it held, and what differed.
public struct Verification: Codable, Sendable, Equatable {
    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    public var passed: Bool
    public var checks: [Check]
    public var checkedAt: String

    public var differences: [String] { checks.filter { !$0.passed }.map { "\($0.name): \($0.detail)" } }
}

/// Reads the cluster after a job and checks it against the job's expectations, waiting (bounded) for gossip and
/// replicas to settle. Key counts are never compared: clients keep writing.
struct Verifier {
    let session: ClusterSession
    let observer: any OperationObserver
    /// How long gossip and replication get to settle before a difference counts.
    var bound: Double = 30

    func verify(_ expected: Expectations, now: () -> String) -> Verification {
        observer.step("verifying")
        var checks: [Verification.Check] = []
        _ = session.pollUntil(timeout: bound) {
            checks = evaluate(expected)
            return checks.allSatisfy(\.passed)
        }
        return Verification(passed: checks.allSatisfy(\.passed), checks: checks, checkedAt: now())
    }

    private func evaluate(_ expected: Expectations) -> [Verification.Check] {
        let (topology, observations) = session.topology()
        var checks: [Verification.Check] = []
        func check(_ name: String, _ problems: [String], ok: String) {
            checks.append(.init(name: name, passed: problems.isEmpty, detail: problems.isEmpty ? ok : problems.prefix(5).joined(separator: "; ")))
        }

        // Every node that answers tells the same owner for every slot and the same role for every node.
        var disagreements: [String] = []
        let views = observations.compactMap { observation in observation.nodes.map { (observation.address, $0) } }
        if let (firstAddress, first) = views.first {
            let reference = Convergence.signature(first.filter { !$0.inHandshake })
            for (address, nodes) in views.dropFirst() where Convergence.signature(nodes.filter { !$0.inHandshake }) != reference {
                disagreements.append("\(address) and \(firstAddress) disagree on the slot map or roles")
            }
        } else {
            disagreements.append("no node answers")
        }
        check("nodes_agree", disagreements, ok: "\(views.count) nodes agree on the slot map")

        let open = topology.nodes.filter { $0.migrating != nil || $0.importing != nil }
            .map { "\($0.address) has slots open (\(($0.migrating?.count ?? 0) + ($0.importing?.count ?? 0)))" }
        check("no_open_slot", open, ok: "no slot is migrating or importing")

        var owners: [String] = []
        for (reference, slots) in expected.owners {
            guard let node = Self.find(reference, in: topology) else { owners.append("\(reference) is not a member"); continue }
            let missing = slots.subtracting(node.slots)
            if !missing.isEmpty { owners.append("\(node.address) does not own \(missing.count) planned slots (\(missing))") }
        }
        if expected.allSlotsCovered {
            let covered = topology.summary.slotsAssigned
            if covered < 16384 { owners.append("\(16384 - covered) slots have no owner") }
        }
        var roles: [String] = []
        for reference in expected.masters {
            guard let node = Self.find(reference, in: topology) else { roles.append("\(reference) is not a member"); continue }
            if !node.isMaster { roles.append("\(node.address) is not a master") }
        }
        for (reference, masterReference) in expected.replicas {
            guard let node = Self.find(reference, in: topology) else { roles.append("\(reference) is not a member"); continue }
            let master = Self.find(masterReference, in: topology)
            if node.isMaster || node.masterId == nil || (master != nil && node.masterId != master?.id) {
                roles.append("\(node.address) is not a replica of \(master?.address ?? masterReference)")
            }
        }
        for id in expected.absent where topology.node(id: id) != nil {
            roles.append("\(topology.node(id: id)?.address ?? id) is still a member")
        }
        if !expected.owners.isEmpty || expected.allSlotsCovered {
            check("owners_as_planned", owners, ok: "every planned slot is owned as planned")
        }
        if !expected.masters.isEmpty || !expected.replicas.isEmpty || !expected.absent.isEmpty {
            check("membership_as_planned", roles, ok: "nodes and roles as planned")
        }

        var leftovers: [String] = []
        for (address, slots) in expected.movedAway where !slots.isEmpty {
            // A master that gave away its last slot becomes a replica (of the node that took it): the keys it then
            // holds are its new master's, copied.
            if let node = Self.find(address, in: topology), !node.isMaster { continue }
            let list = slots.slots
            for start in stride(from: 0, to: list.count, by: 2048) {
                let chunk = Array(list[start..<min(start + 2048, list.count)])
                guard let replies = try? session.pipelineAll(address, chunk.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] }, idempotent: true) else {
                    break
                }
                for (slot, reply) in zip(chunk, replies) where (reply.int ?? 0) > 0 {
                    leftovers.append("\(address) still holds \(reply.int ?? 0) keys of moved slot \(slot)")
                }
            }
        }
        if !expected.movedAway.isEmpty {
            check("no_keys_left_behind", leftovers, ok: "no key of a moved slot is left on its old owner")
        }

        var replicas: [String] = []
        var inSync = 0
        for master in topology.masters where master.reachable && !master.flags.contains("fail") {
            for replicaId in master.replicas {
                guard let replica = topology.node(id: replicaId), replica.reachable, !replica.flags.contains("fail") else { continue }
                guard let state = try? session.syncState(replica: replica.address, master: master.address) else { continue }
                if state.0.isInSync { inSync += 1 } else { replicas.append("\(replica.address) (replica of \(master.address)) is \(state.0)") }
            }
        }
        check("replicas_in_sync", replicas, ok: "\(inSync) replicas attached and in sync")
        return checks
    }

    private static func find(_ reference: String, in topology: ClusterTopology) -> TopologyNode? {
        topology.node(id: reference) ?? topology.nodes.first { $0.isNamed(reference) }
    }
}
