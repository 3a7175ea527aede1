import ClusterModel
import RESP

/// What went wrong talking to a cluster, phrased for an operator.
public enum ClusterOpsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No seed answered; each seed's reason.
    case noReachableSeed([String])
    case notClusterEnabled(String)
    case authenticationFailed(String)
    /// A seed refused or failed the TLS handshake (certificate not verified, name mismatch, client certificate
    /// refused, unusable configuration files).
    case tlsFailed(String)
    case redis(endpoint: String, RedisError)
    /// Keys that exist on both sides of a slot move with different values, and the request did not say replace.
    case busyKeys(slot: Int, keys: [String])
    case notConverged(String)
    /// Slots whose master and every replica are down (`nodes`: their addresses); fixing them loses their keys.
    case shardDown(slots: SlotSet, nodes: [String])
    /// The request cannot be carried out against the cluster as it is (unknown node, last master, ...).
    case impossible(String)
    /// A command `call` refuses without "force".
    case unsafeCommand(String)
    /// A replica that does not hold its master's data (link down, sync running, offset behind), where the job
    /// needs one that does: a failover would lose the difference, an add-node would report a replica that is not one.
    case replicaNotSynced(String)
    /// Checks before the job found a reason not to run it; each failing check's message. Nothing was changed.
    case preflightFailed([String])
    /// The cluster is no longer the one the request was reviewed against (If-Match); what differs.
    case topologyChanged(String)
    /// A node that was to join holds keys, slots, functions or known nodes; what it holds. Nothing was changed.
    case nodeNotEmpty(String)
    /// After the job, the cluster is not as planned; what differs.
    case verificationFailed([String])
    case failed(String)

    public var description: String {
        switch self {
        case .noReachableSeed(let reasons): return "no seed is reachable: " + reasons.joined(separator: "; ")
        case .notClusterEnabled(let endpoint): return "\(endpoint) is not running with cluster-enabled yes"
        case .authenticationFailed(let reason): return "authentication failed: \(reason)"
        case .tlsFailed(let reason): return "TLS failed: \(reason)"
        case .redis(let endpoint, let error): return "\(endpoint): \(error)"
        case .busyKeys(let slot, let keys):
            return "slot \(slot): keys exist on both nodes with different values: \(keys.joined(separator: ", ")) (pass \"replace\": true to overwrite)"
        case .notConverged(let reason): return "cluster did not converge: \(reason)"
        case .shardDown(let slots, let nodes):
            return "slots \(slots) (\(slots.count) slots) have no live node: \(nodes.joined(separator: ", ")) "
                + "\(nodes.count == 1 ? "is" : "are") down with their keys. Bring one of these nodes back, or send "
                + "\"accept_data_loss\": true to cover these slots with empty ones on the live masters (their keys are "
                + "lost), which is what redis-cli --cluster fix does without asking"
        case .impossible(let reason): return reason
        case .unsafeCommand(let reason): return reason
        case .replicaNotSynced(let reason): return reason
        case .preflightFailed(let failures):
            return "preflight failed: " + failures.joined(separator: "; ")
                + ". Nothing was changed; fix what the checks name, or send \"force\": true to run it anyway"
        case .nodeNotEmpty(let reason): return reason
        case .topologyChanged(let reason): return "the cluster changed since the plan was reviewed: \(reason)"
        case .verificationFailed(let differences):
            return "verification failed: " + differences.joined(separator: "; ")
        case .failed(let reason): return reason
        }
    }

    /// A stable machine-readable code for job errors.
    public var code: String {
        switch self {
        case .noReachableSeed: "unreachable"
        case .notClusterEnabled: "not_cluster_enabled"
        case .authenticationFailed: "authentication_failed"
        case .tlsFailed: "tls_failed"
        case .redis: "redis_error"
        case .busyKeys: "busy_keys"
        case .notConverged: "not_converged"
        case .shardDown: "shard_down"
        case .impossible: "impossible"
        case .unsafeCommand: "unsafe_command"
        case .replicaNotSynced: "replica_not_synced"
        case .preflightFailed: "preflight_failed"
        case .topologyChanged: "topology_changed"
        case .nodeNotEmpty: "node_not_empty"
        case .verificationFailed: "verification_failed"
        case .failed: "failed"
        }
    }
}
