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
        let summary = fix.isEmpty ? "nothing to fix"
            : "cover \(fix.uncoveredSlots.count) slots, finish \(fix.continueMigrations.count) migrations, close \(fix.closeSlots.count) open slots"
        return Plan(summary: summary, fix: fix)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        context.observer.step("reading the cluster")
        let (topology, _) = context.session.topology()
        // Planned again from the live state: a resumed fix must not redo what it already did.
        let fix = FixPlan.make(from: topology)
        try SlotFixer(session: context.session, options: context.options, observer: context.observer).run(fix, topology: topology)
        context.observer.step("waiting for convergence")
        try context.session.waitForConvergence(timeout: 60)
        return .completed
    }

    public static func migrationOptions(_ params: Params) -> MigrationOptions { MigrationOptions(replace: params.replace) }
}
