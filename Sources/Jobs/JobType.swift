/// The operations a job can carry out. All of them change the cluster, so at most one runs per cluster.
public enum JobType: String, Sendable, Codable, CaseIterable {
    case create
    case addNode = "add-node"
    case reshard
    case rebalance
    case delNode = "del-node"
    case fix
    case failover
    case setTimeout = "set-timeout"
}
