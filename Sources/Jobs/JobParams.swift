import ClusterModel
import ClusterOps

/// A job's validated request, stored as its `params`. Node references are kept as the user wrote them
/// (id or host:port); the plan records what they resolved to.
public enum JobParams: Sendable, Equatable {
    case create(replicas: Int)
    case addNode(address: String, role: NodeRole, master: String?)
    case reshard(to: String, source: ReshardSource, replace: Bool)
    case rebalance(weights: [String: Double], thresholdPercent: Double, useEmptyMasters: Bool, replace: Bool)
    case delNode(node: String, replace: Bool)
    case fix(replace: Bool)
    case failover(replica: String, mode: FailoverRunner.Mode)
    case setTimeout(milliseconds: Int)

    public enum NodeRole: String, Sendable, Codable, Equatable {
        case master, replica
    }

    public enum ReshardSource: Sendable, Equatable {
        /// `slots` slots taken from every master (`from` nil) or from the listed ones, as redis-cli does.
        case count(Int, from: [String]?)
        /// Exactly these slots, each from its current owner.
        case ranges(SlotSet)
    }

    public var type: JobType {
        switch self {
        case .create: .create
        case .addNode: .addNode
        case .reshard: .reshard
        case .rebalance: .rebalance
        case .delNode: .delNode
        case .fix: .fix
        case .failover: .failover
        case .setTimeout: .setTimeout
        }
    }

    var replace: Bool {
        switch self {
        case .reshard(_, _, let replace), .rebalance(_, _, _, let replace), .delNode(_, let replace), .fix(let replace): replace
        default: false
        }
    }
}
