import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/failover {"replica","mode"}`: promotes a replica with CLUSTER FAILOVER and verifies it.
public enum FailoverJob: JobKind {
    public struct Params: Codable, Sendable, Equatable {
        public var replica: String
        public var mode: FailoverRunner.Mode
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var node: NodeChange
        public var failoverMode: FailoverRunner.Mode
    }

    public static let name = "failover"
    public static let fields: Set<String> = ["replica", "mode"]

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        guard let mode = FailoverRunner.Mode(rawValue: try request.string("mode") ?? "default") else {
            throw RequestFieldError("field 'mode' must be \"default\", \"force\" or \"takeover\"")
        }
        return Params(replica: try request.nodeReference("replica"), mode: mode)
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        let topology = cluster.topology
        let node = try NodeReference.resolve(params.replica, in: topology)
        guard !node.isMaster, let masterId = node.masterId else {
            throw .impossible("\(node.address) is a master; fail over through one of its replicas")
        }
        let change = NodeChange(id: node.id, address: node.address, role: node.role, masterId: masterId,
                                masterAddress: topology.node(id: masterId)?.address)
        return Plan(summary: "promote \(node.address) (\(params.mode.rawValue))", node: change, failoverMode: params.mode)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        guard let id = plan.node.id else { throw .failed("failover plan without a replica id") }
        try FailoverRunner(session: context.session, observer: context.observer)
            .run(replica: plan.node.address, replicaId: id, mode: plan.failoverMode)
        return .completed
    }
}
