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
        case .failed: "failed"
        }
    }
}
