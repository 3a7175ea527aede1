import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/create {"replicas":1}`: forms a cluster from the registered, empty nodes.
public enum CreateJob: JobKind {
    public struct Params: Codable, Sendable, Equatable {
        public var replicas: Int
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var create: CreatePlan
        public var nodes: [String]
    }

    public static let name = "create"
    public static let fields: Set<String> = ["replicas"]

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        Params(replicas: try request.int("replicas", in: 0...16) ?? 1)
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        let topology = cluster.topology
        if topology.summary.slotsAssigned > 0 {
            throw .impossible("the nodes already serve \(topology.summary.slotsAssigned) slots; create needs empty nodes")
        }
        for seed in cluster.seeds {
            guard let node = topology.nodes.first(where: { $0.isNamed(seed) }), node.reachable else {
                throw .impossible("registered node \(seed) is not reachable")
            }
            if let keys = node.keys, keys > 0 { throw .impossible("\(seed) holds \(keys) keys; create needs empty nodes") }
        }
        if let stranger = topology.nodes.first(where: { node in !cluster.seeds.contains(where: node.isNamed) }) {
            throw .impossible("\(stranger.address) already belongs to a cluster with the registered nodes; create needs lone nodes")
        }
        // Nodes registered as localhost:P are planned by the address the formed cluster will report for them.
        let nodes = cluster.seeds.map(LoopbackName.canonical)
        let plan: CreatePlan
        do {
            plan = try CreatePlanner.plan(addresses: nodes, replicas: params.replicas)
        } catch {
            throw .impossible(error.description)
        }
        return Plan(summary: "form a cluster of \(plan.masters.count) masters and \(plan.replicas.count) replicas",
                    create: plan, nodes: nodes)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        try ClusterCreator(session: context.session, observer: context.observer).run(plan.create)
        return .completed
    }
}

extension CreateJob {
    /// Lone nodes report cluster_state:fail until the cluster is formed: only that they answer is checked.
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        var effects = PlanEffects()
        effects.recovery = true
        effects.needs = plan.nodes
        for node in plan.nodes {
            effects.commands += [(node, ["CLUSTER", "ADDSLOTSRANGE", "0", "1"]), (node, ["CLUSTER", "MEET", "127.0.0.1", "6379"]),
                                 (node, ["CLUSTER", "REPLICATE", String(repeating: "0", count: 40)])]
        }
        return effects
    }

    public static func expectations(_ plan: Plan, params: Params) -> Expectations {
        var expected = Expectations()
        expected.allSlotsCovered = true
        expected.owners = plan.create.masters.filter { !$0.slots.isEmpty }.map { ($0.address, $0.slots) }
        expected.masters = plan.create.masters.map(\.address)
        expected.replicas = plan.create.replicas.map { ($0.address, $0.masterAddress) }
        return expected
    }
}
