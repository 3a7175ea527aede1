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
                // Setting the same value again is harmless.
                try session.call(address, ["CONFIG", "SET", "cluster-node-timeout", "\(milliseconds)"], idempotent: true)
                observer.event("cluster-node-timeout set to \(milliseconds) ms", node: address)
            } catch {
                failures.append("\(address): \(error)")
                continue
            }
            do {
                // Not resent after a lost reply: the setting already holds, and the rewrite only makes it survive
                // a restart, which a failed rewrite reports below anyway.
                if try session.change(address, ["CONFIG", "REWRITE"], verify: nil) == nil {
                    observer.event("CONFIG REWRITE reply lost; the setting holds, its persistence is unconfirmed", node: address)
                }
            } catch {
                observer.event("CONFIG REWRITE failed (\(error)); the setting holds until restart", node: address)
            }
        }
        if !failures.isEmpty {
            throw .failed("cluster-node-timeout not set on: " + failures.joined(separator: "; "))
        }
    }
}
