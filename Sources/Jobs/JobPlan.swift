import ClusterModel
import ClusterOps

/// What a job will do, resolved against the topology it was planned on. Stored as the job's `plan`, returned
/// by dry runs, and carried out as written when a job resumes after a restart.
public struct JobPlan: Sendable, Equatable, Codable {
    public struct Move: Sendable, Equatable, Codable {
        public var from: String
        public var fromAddress: String
        public var to: String
        public var toAddress: String
        public var slots: SlotSet
        public var count: Int
    }

    public struct NodeChange: Sendable, Equatable, Codable {
        public var id: String?
        public var address: String
        public var role: String
        public var masterId: String?
        public var masterAddress: String?
    }

    public struct Reassignment: Sendable, Equatable, Codable {
        public var replica: String
        public var replicaAddress: String
        public var master: String
        public var masterAddress: String
    }

    /// One sentence for people.
    public var summary: String
    public var slotsTotal: Int
    public var moves: [Move]
    public var create: CreatePlan?
    public var node: NodeChange?
    public var reassign: [Reassignment]
    public var fix: FixPlan?
    public var failoverMode: FailoverRunner.Mode?
    public var nodeTimeoutMs: Int?
    public var nodes: [String]

    public init(summary: String, moves: [Move] = [], create: CreatePlan? = nil, node: NodeChange? = nil,
                reassign: [Reassignment] = [], fix: FixPlan? = nil, failoverMode: FailoverRunner.Mode? = nil,
                nodeTimeoutMs: Int? = nil, nodes: [String] = []) {
        self.summary = summary
        self.moves = moves
        self.slotsTotal = moves.reduce(0) { $0 + $1.count }
        self.create = create
        self.node = node
        self.reassign = reassign
        self.fix = fix
        self.failoverMode = failoverMode
        self.nodeTimeoutMs = nodeTimeoutMs
        self.nodes = nodes
    }
}
