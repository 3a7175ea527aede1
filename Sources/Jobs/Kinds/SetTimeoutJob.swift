import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/set-timeout {"node_timeout_ms"}`: cluster-node-timeout on every reachable node.
public enum SetTimeoutJob: JobKind {
    public struct Params: Codable, Sendable, Equatable {
        public var nodeTimeoutMs: Int
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var nodeTimeoutMs: Int
        public var nodes: [String]
    }

    public static let name = "set-timeout"
    public static let fields: Set<String> = ["node_timeout_ms"]

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        guard let milliseconds = try request.int("node_timeout_ms", in: 100...3_600_000) else {
            throw RequestFieldError("field 'node_timeout_ms' is required")
        }
        return Params(nodeTimeoutMs: milliseconds)
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        let nodes = cluster.topology.nodes.filter(\.reachable).map(\.address)
        return Plan(summary: "set cluster-node-timeout to \(params.nodeTimeoutMs) ms on \(nodes.count) nodes",
                    nodeTimeoutMs: params.nodeTimeoutMs, nodes: nodes)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        try TimeoutSetter(session: context.session, observer: context.observer).run(milliseconds: plan.nodeTimeoutMs, nodes: plan.nodes)
        return .completed
    }
}

extension SetTimeoutJob {
    /// Tuning timeouts moves no data and is often what a struggling cluster needs: only its nodes must answer.
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        var effects = PlanEffects()
        effects.recovery = true
        effects.needs = plan.nodes
        effects.commands = plan.nodes.flatMap { [($0, ["CONFIG", "SET", "cluster-node-timeout", "\(plan.nodeTimeoutMs)"]), ($0, ["CONFIG", "REWRITE"])] }
        return effects
    }
}
