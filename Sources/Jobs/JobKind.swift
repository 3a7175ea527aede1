import ClusterModel
import ClusterOps

/// One kind of job, whole: the fields its request takes, how they are validated, the plan it makes against the
/// live topology, and how the plan is carried out. Adding a kind is its file, its entry in `openapi.yaml`, and one
/// line in `JobKinds.all`.
public protocol JobKind: Sendable {
    associatedtype Params: Codable & Sendable
    associatedtype Plan: JobPlanContent

    /// The kind's name: the last path segment of its endpoint and the job's `type`.
    static var name: String { get }
    /// Body fields the endpoint accepts besides `dry_run`.
    static var fields: Set<String> { get }

    /// Validates a request body; every mistake names the field.
    static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params
    /// Refusals that need no cluster, made at every submission whether the cluster is busy or not (422).
    static func validate(_ params: Params) throws(ClusterOpsError)
    /// Resolves the request against the cluster as it is; every impossibility is thrown before anything is touched.
    static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan
    /// Carries the plan out. Each step decides from the cluster's live state, so running a plan again after an
    /// interruption finishes it rather than repeating it. `.stopped` means it paused at a safe point.
    static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome
    /// How keys move for this job (only the slot-moving kinds take `replace`).
    static func migrationOptions(_ params: Params) -> MigrationOptions
    /// True for kinds only an admin may submit (they can do anything to a node, as `call` can).
    static var needsAdmin: Bool { get }
}

extension JobKind {
    public static func migrationOptions(_ params: Params) -> MigrationOptions { MigrationOptions() }
    public static var needsAdmin: Bool { false }
    public static func validate(_ params: Params) throws(ClusterOpsError) {}
}

/// What every stored plan says for people and for progress.
public protocol JobPlanContent: Codable, Sendable {
    /// One sentence for people.
    var summary: String { get }
    /// Slots the job moves (0 for kinds that move none); progress counts towards it.
    var slotsTotal: Int { get }
}

/// What planning sees: the live topology, the cluster's registered seeds (the nodes `create` forms a cluster from),
/// and the cluster's stored snapshots by id (what `restore` goes back to).
public struct PlanningInput: Sendable {
    public var topology: ClusterTopology
    public var seeds: [String]
    public var snapshot: @Sendable (Int64) throws -> TopologyDocument?
    /// How to reach the cluster, for plans that read more than the topology (per-slot figures for rebalance by load).
    public var access: ClusterAccess?

    public init(topology: ClusterTopology, seeds: [String],
                snapshot: @escaping @Sendable (Int64) throws -> TopologyDocument? = { _ in nil }, access: ClusterAccess? = nil) {
        self.topology = topology
        self.seeds = seeds
        self.snapshot = snapshot
        self.access = access
    }
}

/// What executing a plan works with: the job's connections to its cluster and the reporter that records progress.
public struct JobContext {
    public let session: ClusterSession
    public let observer: any OperationObserver
    public let options: MigrationOptions
    /// Records what the job answers besides its effect (the job's `result`).
    public let report: (JSONValue) -> Void
}
