import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/fix`: covers uncovered slots, then finishes or closes open slots. A shard with no live node
/// is refused (`shard_down`) unless the request accepts losing its keys.
public enum FixJob: JobKind {
    public struct Params: Codable, Sendable, Equatable {
        public var replace: Bool
        public var acceptDataLoss: Bool
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var fix: FixPlan
    }

    public static let name = "fix"
    public static let fields: Set<String> = ["replace", "accept_data_loss"]

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        Params(replace: try request.bool("replace") ?? false, acceptDataLoss: try request.bool("accept_data_loss") ?? false)
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        let fix = FixPlan.make(from: cluster.topology)
        let lost = fix.downShards.reduce(SlotSet()) { $0.union($1.slots) }
        if !fix.downShards.isEmpty && !params.acceptDataLoss {
            throw .shardDown(slots: lost, nodes: fix.downShards.flatMap { [$0.masterAddress] + $0.replicaAddresses })
        }
        var parts: [String] = []
        if !lost.isEmpty { parts.append("cover \(lost.count) slots of \(fix.downShards.count) down shards with empty ones (their keys are lost)") }
        if !fix.uncoveredSlots.isEmpty { parts.append("cover \(fix.uncoveredSlots.count) uncovered slots") }
        if !fix.continueMigrations.isEmpty { parts.append("finish \(fix.continueMigrations.count) migrations") }
        if !fix.closeSlots.isEmpty { parts.append("close \(fix.closeSlots.count) open slots") }
        if !fix.unfixable.isEmpty { parts.append("report \(fix.unfixable.count) slots it cannot repair") }
        return Plan(summary: parts.isEmpty ? "nothing to fix" : parts.joined(separator: ", then "), fix: fix)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        context.observer.step("reading the cluster")
        let (topology, _) = context.session.topology()
        // Planned again from the live state: a resumed fix must not redo what it already did.
        let fix = FixPlan.make(from: topology)
        try SlotFixer(session: context.session, options: context.options, observer: context.observer)
            .run(fix, topology: topology, acceptDataLoss: params.acceptDataLoss)
        context.observer.step("waiting for convergence")
        try context.session.waitForConvergence(timeout: 60)
        return .completed
    }

    public static func migrationOptions(_ params: Params) -> MigrationOptions { MigrationOptions(replace: params.replace) }
}

extension FixJob {
    /// Fix is for a broken cluster: the damage it repairs never blocks it.
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        var effects = PlanEffects()
        effects.recovery = true
        effects.commands = topology.masters.filter(\.reachable).map { ($0.address, ["CLUSTER", "SETSLOT", "0", "STABLE"]) }
        return effects
    }

    public static func expectations(_ plan: Plan, params: Params) -> Expectations {
        var expected = Expectations()
        expected.allSlotsCovered = plan.fix.unfixable.isEmpty
        return expected
    }
}
