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
    /// What the plan will do, for the checks made before it runs (`plan.preflight`).
    static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects
    /// What the cluster must look like once the plan is carried out, checked when the job ends (`verification`).
    static func expectations(_ plan: Plan, params: Params) -> Expectations
    /// How keys move for this job (only the slot-moving kinds take `replace`).
    static func migrationOptions(_ params: Params) -> MigrationOptions
    /// True for kinds only an admin may submit (they can do anything to a node, as `call` can).
    static var needsAdmin: Bool { get }
    /// The params as they are stored: every secret they carry sealed with `seal` and its plain text dropped.
    static func sealingSecrets(_ params: Params, with seal: (String) throws -> String) throws -> Params
    /// The stored params with their secrets opened again, for planning and running.
    static func openingSecrets(_ params: Params, with open: (String) throws -> String) throws -> Params
}

extension JobKind {
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects { PlanEffects() }
    public static func expectations(_ plan: Plan, params: Params) -> Expectations { Expectations() }
    public static func migrationOptions(_ params: Params) -> MigrationOptions { MigrationOptions() }
    public static var needsAdmin: Bool { false }
    public static func validate(_ params: Params) throws(ClusterOpsError) {}
    public static func sealingSecrets(_ params: Params, with seal: (String) throws -> String) throws -> Params { params }
    public static func openingSecrets(_ params: Params, with open: (String) throws -> String) throws -> Params { params }
}

/// What sealed job secrets are bound to: a sealed secret copied onto another cluster's job does not open.
public enum JobSecrets {
    public static func context(clusterId: String) -> String { "job-params:\(clusterId)" }
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
    /// How the service connects, for kinds that look at nodes outside the cluster (an import's source).
    public var connections: ConnectionSettings
    /// The cluster's last measured rate (keys per second) of a move method ("keys", "atomic"), for time estimates.
    public var measuredRate: @Sendable (String) -> Double?
    /// The cluster's registered id, and where the service keeps backups (nil: backups are not offered).
    public var clusterId: String
    public var backups: BackupDirectory?

    public init(topology: ClusterTopology, seeds: [String],
                snapshot: @escaping @Sendable (Int64) throws -> TopologyDocument? = { _ in nil }, access: ClusterAccess? = nil,
                connections: ConnectionSettings = ConnectionSettings(), measuredRate: @escaping @Sendable (String) -> Double? = { _ in nil },
                clusterId: String = "", backups: BackupDirectory? = nil) {
        self.measuredRate = measuredRate
        self.clusterId = clusterId
        self.backups = backups
        self.topology = topology
        self.seeds = seeds
        self.snapshot = snapshot
        self.access = access
        self.connections = connections
    }
}

/// What executing a plan works with: the job's connections to its cluster and the reporter that records progress.
public struct JobContext {
    public let session: ClusterSession
    public let observer: any OperationObserver
    public let options: MigrationOptions
    /// Records what the job answers besides its effect (the job's `result`).
    public let report: (JSONValue) -> Void
    /// Where the job got to, for kinds that resume from a checkpoint rather than from the cluster's state alone.
    public let checkpoint: any JobCheckpointing
    public let jobId: Int64
    public let clusterId: String
    /// Where the service keeps backups; nil when it offers none.
    public let backups: BackupDirectory?
}

/// A running job's checkpoint: opaque JSON of its kind, saved with the keys moved so far and read back on resume.
public protocol JobCheckpointing: AnyObject {
    /// The checkpoint stored when the job (re)started; nil on its first run.
    var storedCheckpoint: String? { get }
    /// Records `keys` more keys moved and the checkpoint reached, in one write.
    func saveCheckpoint(_ checkpoint: String, keys: Int)
}
