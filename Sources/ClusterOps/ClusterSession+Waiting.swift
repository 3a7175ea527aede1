import ClusterModel
import Foundation

extension ClusterSession {
    /// Polls until the cluster has converged (see `Convergence`), or throws `.notConverged` with the last reason.
    /// Bounded by `timeout`; stops early with `.failed("cancelled")` never: waiting is itself a safe point, so the
    /// caller checks for cancellation between steps.
    @discardableResult
    public func waitForConvergence(expectedMembers: Set<String>? = nil, seeds: [String]? = nil, timeout: Double = 60)
        throws(ClusterOpsError) -> ClusterTopology {
        let deadline = Date().addingTimeInterval(timeout)
        var reason = "not checked"
        repeat {
            let (topology, observations) = self.topology(seeds: seeds)
            guard let problem = Convergence.problem(observations, expectedMembers: expectedMembers) else { return topology }
            reason = problem
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        throw .notConverged("after \(Int(timeout))s: \(reason)")
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes.
    public func waitUntil(_ description: String, timeout: Double = 30, _ condition: () throws(ClusterOpsError) -> Bool)
        throws(ClusterOpsError) {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        throw .notConverged("timed out after \(Int(timeout))s waiting until \(description)")
    }

    /// The node's own line of CLUSTER NODES, and the whole view.
    public func view(_ address: String) throws(ClusterOpsError) -> (myself: ClusterNodeEntry, nodes: [ClusterNodeEntry]) {
        let text = try call(address, ["CLUSTER", "NODES"]).string ?? ""
        let nodes: [ClusterNodeEntry]
        do {
            nodes = try ClusterNodesParser.parse(text)
        } catch {
            throw .failed("\(address): unreadable CLUSTER NODES: \(error)")
        }
        guard let me = nodes.first(where: \.isMyself) else {
            throw .failed("\(address) did not report itself in CLUSTER NODES")
        }
        return (me, nodes)
    }

    /// The IP literal and port CLUSTER MEET needs (it takes no hostnames).
    public func meetAddress(_ address: String) throws(ClusterOpsError) -> (ip: String, port: String) {
        guard let endpoint = RedisEndpointResolver.resolve(address) else {
            throw .impossible("cannot resolve \(address) to an IP address")
        }
        return endpoint
    }
}
