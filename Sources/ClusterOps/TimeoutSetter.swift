/// Sets cluster-node-timeout on every node, persisting it where the node has a config file.
public struct TimeoutSetter {
    let session: ClusterSession
    let observer: any OperationObserver

    public init(session: ClusterSession, observer: any OperationObserver) {
        self.session = session
        self.observer = observer
    }

    /// Tries every node; fails afterwards naming the ones that refused.
    public func run(milliseconds: Int, nodes: [String]) throws(ClusterOpsError) {
        var failures: [String] = []
        for address in nodes {
            do {
                try session.call(address, ["CONFIG", "SET", "cluster-node-timeout", "\(milliseconds)"])
                observer.event("cluster-node-timeout set to \(milliseconds) ms", node: address)
            } catch {
                failures.append("\(address): \(error)")
                continue
            }
            do {
                try session.call(address, ["CONFIG", "REWRITE"])
            } catch {
                observer.event("CONFIG REWRITE failed (\(error)); the setting holds until restart", node: address)
            }
        }
        if !failures.isEmpty {
            throw .failed("cluster-node-timeout not set on: " + failures.joined(separator: "; "))
        }
    }
}
