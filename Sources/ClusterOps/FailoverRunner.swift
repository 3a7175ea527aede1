import ClusterModel

/// Promotes a replica with CLUSTER FAILOVER and verifies that it took effect.
public struct FailoverRunner {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case `default`, force, takeover
    }

    let session: ClusterSession
    let observer: any OperationObserver

    public init(session: ClusterSession, observer: any OperationObserver) {
        self.session = session
        self.observer = observer
    }

    public func run(replica: String, replicaId: String, mode: Mode, timeout: Double = 30) throws(ClusterOpsError) {
        if try session.view(replica).myself.isMaster {
            observer.event("\(replica) is already a master", node: replica)
            return
        }
        var command = ["CLUSTER", "FAILOVER"]
        if mode != .default { command.append(mode.rawValue.uppercased()) }
        // Never resent: a second FAILOVER would restart a promotion that may be under way. Whether the first one
        // arrived shows in the promotion the next step waits for.
        if try session.change(replica, command, verify: nil) == nil {
            observer.event("\(command.joined(separator: " ")) sent to \(replica); its reply was lost, checking for the promotion", node: replica)
        } else {
            observer.event("\(command.joined(separator: " ")) sent to \(replica)", node: replica)
        }
        observer.step("waiting for the promotion")
        try session.waitUntil("\(replica) reports itself master", timeout: timeout) { () throws(ClusterOpsError) -> Bool in
            try session.view(replica).myself.isMaster
        }
        try session.waitUntil("every reachable node sees \(replica) as master", timeout: timeout) { () throws(ClusterOpsError) -> Bool in
            let (_, observations) = session.topology()
            return observations.allSatisfy { observation in
                guard let nodes = observation.nodes else { return true }
                return nodes.contains { $0.id == replicaId && $0.isMaster }
            }
        }
        observer.event("\(replica) is now a master", node: replica)
    }
}
