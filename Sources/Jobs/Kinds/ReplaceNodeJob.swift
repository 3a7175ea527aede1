import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/replace-node {"node": OLD, "with": NEW}`: NEW (empty) joins OLD's shard as a replica and
/// syncs; if OLD is a master, it fails over to NEW (default mode: only once NEW holds the data); OLD is then
/// forgotten by every node and reset. Clients see no downtime beyond a failover's pause, and no key is lost. It
/// works across servers whose data the new one can load (Redis 7.0 → Valkey 9, a rolling upgrade to a newer Redis).
public enum ReplaceNodeJob: JobKind {
    public struct Params: Codable, Sendable, Equatable {
        public var node: String
        public var with: String
        /// How long the failover waits for NEW to be in sync.
        public var waitSeconds: Int?
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var node: NodeChange
        public var with: String
        /// The master NEW replicates: OLD itself when OLD is a master, else OLD's master.
        public var shardMaster: String?
        public var shardMasterAddress: String?
        /// OLD owns slots: it fails over to NEW before it is removed.
        public var failover: Bool
        /// OLD's slots, which NEW owns afterwards.
        public var slots: SlotSet
        public var servers: String?
        /// What NEW runs, when it said.
        public var newServer: ServerVersion?
        /// The cluster's function libraries, copied to NEW before it joins.
        public var functions: FunctionCopy?
    }

    public static let name = "replace-node"
    public static let fields: Set<String> = ["node", "with", "wait_seconds"]

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        Params(node: try request.nodeReference("node"), with: try request.endpoint("with"),
               waitSeconds: try request.int("wait_seconds", in: 0...3600))
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        let topology = cluster.topology
        let with = LoopbackName.canonical(params.with)
        let old = try NodeReference.resolve(params.node, in: topology)
        if let member = topology.nodes.first(where: { $0.isNamed(with) }) {
            throw .impossible("\(with) is already a member of this cluster (node \(member.id)); replace-node needs an empty node")
        }
        let oldDown = !old.reachable || old.flags.contains("fail")
        let functions = try JoiningNode.inspect(with, in: topology, access: cluster.access)
        let shardMaster: TopologyNode?
        if old.isMaster {
            if old.slots.isEmpty {
                shardMaster = nil
            } else {
                guard !oldDown else {
                    throw .impossible("\(old.address) is down and owns \(old.slotCount) slots: no node holds its data to sync from. "
                                      + "Fail over to one of its replicas (failover with mode force), or run fix")
                }
                shardMaster = old
            }
        } else {
            guard let masterId = old.masterId, let master = topology.node(id: masterId) else {
                throw .impossible("\(old.address) names no master it replicates")
            }
            guard master.reachable && !master.flags.contains("fail") else {
                throw .impossible("\(master.address), the master of \(old.address), is down: the new node has nothing to sync from")
            }
            shardMaster = master
        }
        var servers: String?
        var newServer: ServerVersion?
        if let access = cluster.access, let source = shardMaster {
            let session = ClusterSession(access: access)
            defer { session.close() }
            let text = (try? session.call(with, ["INFO", "server"], idempotent: true).string) ?? nil
            guard let server = text.flatMap(ServerVersion.parse(info:)) else {
                throw .impossible("\(with) does not answer INFO server; it must run and be reachable before it can replace \(old.address)")
            }
            newServer = server
            if let sourceServer = source.server {
                if let reason = Self.incompatibility(from: sourceServer, to: server) {
                    throw .impossible("\(with) runs \(server), which cannot replicate \(source.address) (\(sourceServer)): \(reason)")
                }
                servers = "\(sourceServer) → \(server)"
            }
        }
        let change = NodeChange(id: old.id, address: old.address, role: old.role, masterId: old.masterId,
                                masterAddress: old.masterId.flatMap { topology.node(id: $0)?.address })
        let what = old.isMaster ? (old.slots.isEmpty ? "empty master" : "master of \(old.slotCount) slots") : "replica"
        let steps = shardMaster.map { "joins as a replica of \($0.address), syncs" } ?? "joins as an empty master"
        return Plan(summary: "replace \(what) \(old.address) by \(with): it \(steps)"
                        + (old.isMaster && !old.slots.isEmpty ? ", takes over by failover" : "") + "; \(old.address) is forgotten and reset"
                        + JoiningNode.summary(functions),
                    node: change, with: with, shardMaster: shardMaster?.id, shardMasterAddress: shardMaster?.address,
                    failover: old.isMaster && !old.slots.isEmpty, slots: old.slots, servers: servers, newServer: newServer,
                    functions: functions)
    }

    /// Why `to` cannot load a full sync from `from`, or nil: a server reads the RDB of its own and older versions,
    /// and Valkey reads Redis's up to 7.2 (RDB 11); Redis reads no Valkey RDB newer than its own.
    static func incompatibility(from: ServerVersion, to: ServerVersion) -> String? {
        switch (from.product, to.product) {
        case (.redis, .redis), (.valkey, .valkey):
            return to < from ? "a server cannot load the data of a newer version of itself" : nil
        case (.redis, .valkey):
            return (from.major, from.minor) <= (7, 2) ? nil : "Valkey loads Redis data up to 7.2 (RDB 11); \(from) writes a newer format"
        case (.valkey, .redis):
            return "Redis cannot load the data Valkey writes"
        }
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        let session = context.session
        guard let oldId = plan.node.id else { throw .failed("replace-node plan without the old node's id") }
        context.observer.step("checking the cluster")
        let topology = try session.waitForConvergence(ignoring: [oldId], timeout: 60)
        guard let existing = topology.nodes.first(where: { $0.reachable && $0.id != oldId && !$0.isNamed(plan.with) }) else {
            throw .impossible("no other member of the cluster is reachable")
        }
        // A node that is down holds nothing to hand over: it is forgotten first, so the cluster NEW joins has settled.
        if let old = topology.node(id: oldId), !old.reachable || old.flags.contains("fail") {
            try remove(plan, oldId: oldId, in: context)
        }
        let (current, _) = session.topology()
        let members = Set(current.nodes.filter { !$0.isNamed(plan.with) }.map(\.id))
        // 1. NEW joins OLD's shard and holds its data (a resumed job finds it joined, and only waits for the sync).
        try NodeJoiner(session: session, observer: context.observer)
            .run(address: plan.with, existing: existing.address, members: members, masterId: plan.shardMaster,
                 functionsFrom: plan.functions.flatMap { copy in
                     current.masters.first { $0.isNamed(copy.from) && $0.reachable }?.address
                         ?? current.masters.first { $0.reachable && $0.id != oldId }?.address
                 })
        if context.observer.shouldStop() { return .stopped }
        let newId = try session.view(plan.with).myself.id

        // 2. A master hands its slots over by a failover that only happens once NEW is in sync.
        if plan.failover {
            let outcome = try FailoverRunner(session: session, observer: context.observer)
                .run(replica: plan.with, replicaId: newId, mode: .default, waitSeconds: Double(params.waitSeconds ?? 60))
            if let value = try? JSONText.decode(JSONValue.self, from: JSONText.string(outcome)) { context.report(value) }
            if context.observer.shouldStop() { return .stopped }
        }

        // 3. OLD leaves: every other node forgets it, and it is reset so it can be reused or switched off.
        try remove(plan, oldId: oldId, in: context)
        context.observer.event("\(plan.node.address) replaced by \(plan.with) (\(newId))", node: plan.with)
        return .completed
    }

    private static func remove(_ plan: Plan, oldId: String, in context: JobContext) throws(ClusterOpsError) {
        let (now, _) = context.session.topology()
        guard let old = now.node(id: oldId) else { return }
        if old.isMaster, !old.slots.isEmpty {
            throw .failed("\(plan.node.address) still owns \(old.slotCount) slots; it was not removed")
        }
        let others = now.nodes.filter { $0.id != oldId && $0.reachable }.map(\.address)
        context.observer.step("removing \(plan.node.address)")
        try NodeRemover(session: context.session, observer: context.observer)
            .run(nodeId: oldId, address: plan.node.address, others: others, reassign: [:])
    }

    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        let anyId = String(repeating: "0", count: 40)
        var effects = PlanEffects()
        let old = plan.node.id.flatMap { topology.node(id: $0) }
        effects.recovery = old.map { !$0.reachable || $0.flags.contains("fail") } ?? true
        if let master = plan.shardMasterAddress, let masterId = plan.shardMaster {
            effects.copies = [(plan.with, master)]
            effects.masters = [masterId]
            effects.needs = [master]
        }
        effects.commands = [(plan.with, ["CLUSTER", "MEET", "127.0.0.1", "6379"]), (plan.with, ["CLUSTER", "REPLICATE", anyId])]
        if plan.failover { effects.commands.append((plan.with, ["CLUSTER", "FAILOVER"])) }
        effects.commands += topology.nodes.filter { $0.reachable && $0.id != plan.node.id }.map { ($0.address, ["CLUSTER", "FORGET", anyId]) }
        effects.kindChecks = [compatibility(plan, on: topology)]
        return effects
    }

    /// After a takeover the shard's other replicas follow NEW: by partial resync that works across servers, but a
    /// full sync (after a broken link) needs them to load NEW's data, which an older server cannot.
    static func compatibility(_ plan: Plan, on topology: ClusterTopology) -> PreflightCheck {
        guard plan.failover, let newServer = plan.newServer, let old = plan.node.id.flatMap({ topology.node(id: $0) }) else {
            return PreflightCheck("compatibility", .ok, plan.servers.map { "replication \($0) is supported" } ?? "no server change to check")
        }
        let behind = old.replicas.compactMap { topology.node(id: $0) }.compactMap { replica -> String? in
            guard let server = replica.server, let reason = incompatibility(from: newServer, to: server) else { return nil }
            return "\(replica.address) (\(server)) will follow \(plan.with) (\(newServer)): \(reason)"
        }
        guard behind.isEmpty else {
            return PreflightCheck("compatibility", .warn, behind.joined(separator: "; ") + ". A partial resync works; a full sync would fail "
                                    + "and leave the replica empty", figures: ["replicas": .int(Int64(behind.count))],
                                  action: "replace these replicas first")
        }
        return PreflightCheck("compatibility", .ok, "every replica of the shard can load \(newServer) data")
    }

    public static func expectations(_ plan: Plan, params: Params) -> Expectations {
        var expected = Expectations()
        expected.absent = plan.node.id.map { [$0] } ?? []
        if plan.failover {
            expected.masters = [plan.with]
            expected.owners = [(plan.with, plan.slots)]
        } else if let master = plan.shardMaster {
            expected.replicas = [(plan.with, master)]
        } else {
            expected.masters = [plan.with]
        }
        return expected
    }
}
