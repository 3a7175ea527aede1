import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/add-node {"address","role":"master"|"replica","master"?}`: an empty node joins, as an empty
/// master or as a replica (of the given master, else of the one with the fewest replicas, as redis-cli picks).
public enum AddNodeJob: JobKind {
    public enum Role: String, Codable, Sendable {
        case master, replica
    }

    public struct Params: Codable, Sendable, Equatable {
        public var address: String
        public var role: Role
        public var master: String?
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var node: NodeChange
        /// The cluster's function libraries, copied to the node before it joins.
        public var functions: FunctionCopy?
    }

    public static let name = "add-node"
    public static let fields: Set<String> = ["address", "role", "master"]

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        let address = try request.endpoint("address")
        guard let role = Role(rawValue: try request.string("role") ?? "master") else {
            throw RequestFieldError("field 'role' must be \"master\" or \"replica\"")
        }
        let master = request.has("master") ? try request.nodeReference("master") : nil
        if master != nil && role == .master { throw RequestFieldError("field 'master' applies to role \"replica\" only") }
        return Params(address: address, role: role, master: master)
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        let topology = cluster.topology
        let address = LoopbackName.canonical(params.address)
        if let member = topology.nodes.first(where: { $0.isNamed(address) }) {
            throw .impossible("\(address) is already a member of this cluster (node \(member.id))")
        }
        guard topology.nodes.contains(where: \.reachable) else { throw .impossible("no node of the cluster is reachable") }
        let functions = try JoiningNode.inspect(address, in: topology, access: cluster.access)
        var change = NodeChange(id: nil, address: address, role: params.role.rawValue, masterId: nil, masterAddress: nil)
        guard params.role == .replica else {
            return Plan(summary: "add \(address) as an empty master" + JoiningNode.summary(functions), node: change, functions: functions)
        }
        let chosen: TopologyNode
        if let master = params.master {
            chosen = try NodeReference.resolve(master, in: topology)
            guard chosen.isMaster else { throw .impossible("\(master) is a replica; a replica needs a master") }
        } else {
            let masters = topology.masters.filter { !$0.flags.contains("fail") }
            guard let fewest = masters.min(by: { ($0.replicas.count, $0.address) < ($1.replicas.count, $1.address) }) else {
                throw .impossible("the cluster has no master to replicate")
            }
            chosen = fewest
        }
        change.masterId = chosen.id
        change.masterAddress = chosen.address
        return Plan(summary: "add \(address) as a replica of \(chosen.address)" + JoiningNode.summary(functions), node: change,
                    functions: functions)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        let node = plan.node
        context.observer.step("checking the cluster")
        let topology = try context.session.waitForConvergence(timeout: 60)
        guard let existing = topology.nodes.first(where: { $0.reachable && !$0.isNamed(node.address) }) else {
            throw .impossible("no member of the cluster is reachable")
        }
        let members = Set(topology.nodes.filter { !$0.isNamed(node.address) }.map(\.id))
        try NodeJoiner(session: context.session, observer: context.observer)
            .run(address: node.address, existing: existing.address, members: members, masterId: node.masterId,
                 functionsFrom: plan.functions == nil ? nil : Self.functionSource(plan, in: topology))
        return .completed
    }
}

extension AddNodeJob {
    /// The planned source of the libraries if it still answers as a master, else another reachable master.
    static func functionSource(_ plan: Plan, in topology: ClusterTopology) -> String? {
        let masters = topology.masters.filter { $0.reachable && !$0.flags.contains("fail") }
        return masters.first { $0.isNamed(plan.functions?.from ?? "") }?.address ?? masters.first?.address
    }

    /// A new replica receives its master's whole data set: its memory and the sync's time are checked before.
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        var effects = PlanEffects()
        effects.commands = [(plan.node.address, ["CLUSTER", "MEET", "127.0.0.1", "6379"]), (plan.node.address, ["DBSIZE"]),
                            (plan.node.address, ["FUNCTION", "LIST"])]
        if let functions = plan.functions {
            effects.commands += [(functions.from, ["FUNCTION", "DUMP"]), (plan.node.address, ["FUNCTION", "RESTORE", "x", "REPLACE"])]
        }
        if let masterId = plan.node.masterId, let master = plan.node.masterAddress {
            effects.copies = [(plan.node.address, master)]
            effects.masters = [masterId]
            effects.needs = [master]
            effects.commands.append((plan.node.address, ["CLUSTER", "REPLICATE", masterId]))
        }
        return effects
    }

    public static func expectations(_ plan: Plan, params: Params) -> Expectations {
        var expected = Expectations()
        if let master = plan.node.masterId {
            expected.replicas = [(plan.node.address, master)]
        } else {
            expected.masters = [plan.node.address]
        }
        return expected
    }
}
