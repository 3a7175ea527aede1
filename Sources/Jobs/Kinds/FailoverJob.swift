import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/failover {"replica","mode","wait_seconds"?,"accept_data_loss"?}`: promotes a replica with
/// CLUSTER FAILOVER only when that keeps the data (see `FailoverRunner`), and proves the switch afterwards.
public enum FailoverJob: JobKind {
    public struct Params: Codable, Sendable, Equatable {
        public var replica: String
        public var mode: FailoverRunner.Mode
        /// How long a default failover waits for the replica to be in sync before it refuses.
        public var waitSeconds: Int?
        /// force/takeover against a live master with a replica that is behind.
        public var acceptDataLoss: Bool?
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var node: NodeChange
        public var failoverMode: FailoverRunner.Mode
    }

    public static let name = "failover"
    public static let fields: Set<String> = ["replica", "mode", "wait_seconds", "accept_data_loss"]
    static let defaultWaitSeconds = 60

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        guard let mode = FailoverRunner.Mode(rawValue: try request.string("mode") ?? "default") else {
            throw RequestFieldError("field 'mode' must be \"default\", \"force\" or \"takeover\"")
        }
        return Params(replica: try request.nodeReference("replica"), mode: mode,
                      waitSeconds: try request.int("wait_seconds", in: 0...3600),
                      acceptDataLoss: try request.bool("accept_data_loss"))
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
        let outcome = try FailoverRunner(session: context.session, observer: context.observer)
            .run(replica: plan.node.address, replicaId: id, mode: plan.failoverMode,
                 waitSeconds: Double(params.waitSeconds ?? defaultWaitSeconds), acceptDataLoss: params.acceptDataLoss ?? false)
        if let value = try? JSONText.decode(JSONValue.self, from: JSONText.string(outcome)) { context.report(value) }
        return .completed
    }

    /// A force or takeover failover of a master that is down is recovery: only the replica must answer.
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        var effects = PlanEffects()
        effects.needs = [plan.node.address]
        effects.masters = plan.node.masterId.map { [$0] } ?? []
        let master = plan.node.masterId.flatMap { topology.node(id: $0) }
        effects.recovery = plan.failoverMode != .default && (master.map { !$0.reachable || $0.flags.contains("fail") } ?? true)
        if !effects.recovery, let address = plan.node.masterAddress { effects.needs.append(address) }
        effects.commands = [(plan.node.address, ["CLUSTER", "FAILOVER"] + (plan.failoverMode == .default ? [] : [plan.failoverMode.rawValue.uppercased()])),
                            (plan.node.address, ["INFO", "replication"])]
        return effects
    }

    public static func expectations(_ plan: Plan, params: Params) -> Expectations {
        var expected = Expectations()
        expected.masters = [plan.node.id ?? plan.node.address]
        return expected
    }
}
