import ClusterModel
import Foundation
import RESP

extension ClusterSession {
    /// Polls until the cluster has converged (see `Convergence`), or throws `.notConverged` with the last reason.
    /// Waiting is itself a safe point: the caller checks for cancellation between steps.
    @discardableResult
    public func waitForConvergence(expectedMembers: Set<String>? = nil, seeds: [String]? = nil, ignoring: Set<String> = [],
                                   timeout: Double = 60) throws(ClusterOpsError) -> ClusterTopology {
        var reason = "not checked"
        let converged = try poll(timeout: timeout) { () throws(ClusterOpsError) -> ClusterTopology? in
            let (topology, observations) = self.topology(seeds: seeds)
            guard let problem = Convergence.problem(observations, expectedMembers: expectedMembers, ignoring: ignoring) else { return topology }
            reason = problem
            return nil
        }
        guard let converged else { throw .notConverged("after \(Int(timeout))s: \(reason)") }
        return converged
    }

    /// Polls `condition` until it holds or `timeout` passes; then `giveUp` throws the caller's own error, else
    /// `.notConverged` naming `description`.
    public func waitUntil(_ description: String, timeout: Double = 30, giveUp: (() throws(ClusterOpsError) -> Void)? = nil,
                          _ condition: () throws(ClusterOpsError) -> Bool) throws(ClusterOpsError) {
        let held = try poll(timeout: timeout) { () throws(ClusterOpsError) -> Bool? in try condition() ? true : nil }
        if held == nil {
            try giveUp?()
            throw .notConverged("timed out after \(Int(timeout))s waiting until \(description)")
        }
    }

    /// Polls `condition` until it holds or `timeout` passes; false when it never held.
    public func pollUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        (try? poll(timeout: timeout) { () throws(ClusterOpsError) -> Bool? in condition() ? true : nil }) != nil
    }

    /// The one place that polls a cluster: `attempt` until it gives a value, starting at 10 ms between tries and
    /// backing off to 1 s (gossip settles in tens of milliseconds, failure detection in seconds), never sleeping
    /// past the deadline. Nodes only tell their state when asked, so there is nothing to be woken by.
    private func poll<Value>(timeout: Double, _ attempt: () throws(ClusterOpsError) -> Value?) throws(ClusterOpsError) -> Value? {
        let deadline = Date().addingTimeInterval(timeout)
        var interval = 0.01
        while true {
            if let value = try attempt() { return value }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            Thread.sleep(forTimeInterval: min(interval, remaining))
            interval = min(interval * 1.5, 1)
        }
    }

    /// PING answered within `timeout` seconds, on a fresh attempt: no retry, a node that cannot answer a PING in
    /// that time is dead or frozen for the caller's purpose.
    public func answersPing(_ address: String, within timeout: Double) -> Bool {
        do {
            return try call(address, bytes: [Array("PING".utf8)], idempotent: false, readTimeout: timeout).string == "PONG"
        } catch {
            return false
        }
    }

    /// The cluster's node timeout (cluster-node-timeout of `address`, in milliseconds), or Redis's default of
    /// 15 000 when the node will not say (CONFIG disabled or renamed).
    public func nodeTimeoutMilliseconds(_ address: String) -> Int {
        guard let reply = try? call(address, ["CONFIG", "GET", "cluster-node-timeout"], idempotent: true).array, reply.count == 2,
              let text = reply[1].string, let value = Int(text), value > 0 else { return 15_000 }
        return value
    }

    /// The node's own line of CLUSTER NODES, and the whole view.
    public func view(_ address: String) throws(ClusterOpsError) -> (myself: ClusterNodeEntry, nodes: [ClusterNodeEntry]) {
        let reply = try call(address, ["CLUSTER", "NODES"], idempotent: true).bytes ?? []
        let nodes: [ClusterNodeEntry]
        do {
            nodes = try ClusterNodesParser.parse(reply)
        } catch {
            throw .failed("\(address): unreadable CLUSTER NODES: \(error)")
        }
        guard let me = nodes.first(where: \.isMyself) else {
            throw .failed("\(address) did not report itself in CLUSTER NODES")
        }
        return (me, nodes)
    }

    /// The IP literal, port and bus port CLUSTER MEET needs (it takes no hostnames): the node's announced address, the
    /// one the other nodes reach it at, even when the request named the address the service dials it at.
    public func meetAddress(_ address: String) throws(ClusterOpsError) -> MeetTarget {
        let announced = try announcedAddress(address)
        guard let endpoint = RedisEndpointResolver.resolve(announced) else {
            throw .impossible("cannot resolve \(announced) to an IP address")
        }
        // The bus port the node reports itself (cluster-port, or cluster-announce-bus-port behind NAT): a MEET that
        // assumed port + 10000 would handshake with nothing.
        let busPort = try view(address).myself.busPort
        return MeetTarget(ip: endpoint.ip, port: endpoint.port, busPort: busPort.flatMap { $0 > 0 ? "\($0)" : nil })
    }

    /// The address the nodes know the node at `address` by. Without an address map, or for an address the map
    /// dials elsewhere (an announced one), that is `address`; for a reachable address, the one exact entry mapped
    /// to it, else what the node announces itself (its own CLUSTER NODES line, when it knows its address).
    public func announcedAddress(_ address: String) throws(ClusterOpsError) -> String {
        let map = access.addressMap
        guard !map.isEmpty, map.reachable(address) == nil else { return address }
        if let announced = map.announced(address) { return announced }
        let me = try view(address).myself
        return me.host.isEmpty ? address : me.address
    }
}

/// Where CLUSTER MEET points a node: an IP literal, the port, and the cluster-bus port when the node reports one.
public struct MeetTarget: Sendable, Equatable {
    public var ip: String
    public var port: String
    public var busPort: String?
}
