import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/del-node {"node"}`: a master that still owns slots is drained to the other masters first,
/// its replicas move to other masters, every node forgets it, and it is reset.
public enum DelNodeJob: JobKind {
    public struct Params: Codable, Sendable, Equatable, SlotMovingParams {
        public var node: String
        public var replace: Bool
        public var method: MoveSettings.Method?
        public var maxKeysPerSecond: Int?
    }

    public struct Reassignment: Sendable, Equatable, Codable {
        public var replica: String
        public var replicaAddress: String
        public var master: String
        public var masterAddress: String
    }

    public struct Plan: JobPlanContent, SlotMovingPlan {
        public var summary: String
        public var slotsTotal: Int
        public var node: NodeChange
        public var moves: [PlannedMove]
        public var reassign: [Reassignment]
        public var method: String?
        public var atomicProtocol: AtomicMigrationKind?
        public var methodReason: String?
    }

    public static let name = "del-node"
    public static let fields: Set<String> = Set(["node", "replace"]).union(MoveSettings.fields)

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        let settings = try MoveSettings.parse(request)
        return Params(node: try request.nodeReference("node"), replace: try request.bool("replace") ?? false,
                      method: settings.method, maxKeysPerSecond: settings.maxKeysPerSecond)
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        let topology = cluster.topology
        let node = try NodeReference.resolve(params.node, in: topology)
        let otherMasters = topology.masters.filter { $0.id != node.id && !$0.flags.contains("fail") }
        var moves: [SlotMove] = []
        var reassign: [Reassignment] = []
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
                reassign.append(Reassignment(replica: replicaId, replicaAddress: replica.address,
                                             master: master.id, masterAddress: master.address))
            }
        }
        let change = NodeChange(id: node.id, address: node.address, role: node.role, masterId: node.masterId,
                                masterAddress: node.masterId.flatMap { topology.node(id: $0)?.address })
        let planned = PlannedMove.list(moves, topology)
        let choice = try params.moveSettings.resolve(moves, in: topology)
        let summary = moves.isEmpty ? "remove \(node.role) \(node.address)"
            : "drain \(node.slotCount) slots from \(node.address) to \(Set(moves.map(\.to)).count) masters (\(choice.name)), then remove it"
        return Plan(summary: summary, slotsTotal: planned.reduce(0) { $0 + $1.count }, node: change, moves: planned,
                    reassign: reassign, method: choice.name, atomicProtocol: choice.atomicProtocol, methodReason: choice.reason)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        guard let nodeId = plan.node.id else { throw .failed("del-node plan without a node id") }
        if try SlotMoving.run(plan.moves, method: plan.migrationMethod, leaving: nodeId, in: context) == .stopped { return .stopped }
        context.observer.step("removing \(plan.node.address)")
        let (topology, _) = context.session.topology()
        let others = topology.nodes.filter { $0.id != nodeId && $0.reachable }.map(\.address)
        let reassign = Dictionary(plan.reassign.map { ($0.replicaAddress, $0.master) }, uniquingKeysWith: { first, _ in first })
        try NodeRemover(session: context.session, observer: context.observer)
            .run(nodeId: nodeId, address: plan.node.address, others: others, reassign: reassign)
        return .completed
    }
}

extension DelNodeJob {
    /// Removing a node that is down is recovery: only the nodes that must forget it are checked.
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        let anyId = String(repeating: "0", count: 40)
        var effects = PlanEffects()
        effects.moves = plan.moves
        effects.method = plan.migrationMethod
        let node = plan.node.id.flatMap { topology.node(id: $0) }
        let others = topology.nodes.filter { $0.id != plan.node.id && $0.reachable }.map(\.address)
        effects.recovery = node.map { !$0.reachable || $0.flags.contains("fail") } ?? true
        effects.needs = effects.recovery ? others : others + [plan.node.address]
        effects.commands = PlanEffects.moveCommands(plan.moves, method: plan.migrationMethod, masters: topology.masters.map(\.address))
            + others.map { ($0, ["CLUSTER", "FORGET", anyId]) }
            + plan.reassign.map { ($0.replicaAddress, ["CLUSTER", "REPLICATE", anyId]) }
        if !effects.recovery { effects.commands.append((plan.node.address, ["CLUSTER", "RESET", "HARD"])) }
        if plan.node.role != "master", let id = plan.node.id { effects.removedReplicas = [id] }
        return effects
    }

    public static func expectations(_ plan: Plan, params: Params) -> Expectations {
        var expected = Expectations()
        expected.owners = plan.moves.map { ($0.to, $0.slots) }
        expected.absent = plan.node.id.map { [$0] } ?? []
        expected.replicas = plan.reassign.map { ($0.replica, $0.master) }
        return expected
    }
}
