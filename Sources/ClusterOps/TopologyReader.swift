import ClusterModel
import RESP

/// Gathers every reachable node's own view (CLUSTER NODES, CLUSTER INFO, DBSIZE, INFO server), starting from the seeds and
/// following the nodes they report, and merges the views with the model's TopologyBuilder.
///
/// Connections come from the cluster's pool and go back to it, so repeated reads (the API's, a job's
/// convergence polls) open no new connections once warm. Each wave of nodes is read over all its sockets at once
/// on the calling thread.
public struct TopologyReader: Sendable {
    public let access: ClusterAccess

    public init(access: ClusterAccess) {
        self.access = access
    }

    public func read() -> ClusterTopology {
        access.withReachableAddresses(TopologyBuilder.build(observe()))
    }

    /// One observation per distinct node tried. Nodes are visited in waves, each wave read at once.
    public func observe() -> [NodeObservation] {
        let lease = ConnectionLease(access: access)
        defer { lease.release() }
        return observe(using: lease)
    }

    /// As `observe()`, over connections the caller's lease holds (a session's), so they stay with it.
    func observe(using lease: ConnectionLease) -> [NodeObservation] {
        var observations: [NodeObservation] = []
        var triedAddresses = Set<String>()
        var seenIds = Set<String>()
        // Ids already queued for a later wave: each node's address is parsed once, not once per view naming it.
        var queuedIds = Set<String>()
        var wave = access.seeds
        while !wave.isEmpty {
            let fresh = wave.filter { triedAddresses.insert($0.description).inserted }
            var next: [RedisEndpoint] = []
            for observation in read(fresh, lease: lease) {
                // A seed given by hostname and the same node by IP must count once: dedupe by the node's own id.
                if let me = observation.nodes?.first(where: \.isMyself) {
                    guard seenIds.insert(me.id).inserted else { continue }
                }
                observations.append(observation)
                for entry in observation.nodes ?? [] where !entry.isMyself && !entry.hasNoAddress && !entry.inHandshake {
                    guard !seenIds.contains(entry.id), queuedIds.insert(entry.id).inserted else { continue }
                    if let endpoint = RedisEndpoint(entry.address), !triedAddresses.contains(endpoint.description) {
                        next.append(endpoint)
                    }
                }
            }
            wave = next
        }
        return TopologyReader.members(observations)
    }

    /// The nodes that belong to the cluster. Once any node knows others, a seed that no member knows and that
    /// knows nobody (a node removed and reset) is not part of it, and neither is a seed that does not answer and
    /// whose address no member lists (a dead node the cluster has forgotten). Before `create` every node is alone,
    /// and all count.
    static func members(_ observations: [NodeObservation]) -> [NodeObservation] {
        let views = observations.compactMap(\.nodes).filter { $0.count > 1 }
        let known = Set(views.flatMap { $0.map(\.id) })
        guard !known.isEmpty else { return observations }
        let listed = Set(views.flatMap { $0.map(\.address) })
        return observations.filter { observation in
            guard let nodes = observation.nodes else { return listed.contains(observation.address) }
            guard let me = nodes.first(where: \.isMyself) else { return true }
            return known.contains(me.id)
        }
    }

    private static let commands: [[[UInt8]]] = [
        ["CLUSTER", "NODES"].map { Array($0.utf8) },
        ["CLUSTER", "INFO"].map { Array($0.utf8) },
        [Array("DBSIZE".utf8)],
        ["INFO", "server"].map { Array($0.utf8) },
    ]

    /// One wave: every endpoint's three replies, read over all sockets at once. A connection that breaks is
    /// tried once more on a new one, because a pooled socket may have gone stale; these are reads, safe to repeat.
    /// A node that let the read time out is not: it is frozen or overwhelmed, and a second try would double the
    /// time every read of the cluster takes while it is.
    private func read(_ endpoints: [RedisEndpoint], lease: ConnectionLease) -> [NodeObservation] {
        var results = [Result<[Result<RESPValue, RedisError>], RedisError>](
            repeating: .failure(.connectionClosed(endpoint: "")), count: endpoints.count)
        var pending = Array(endpoints.indices)
        for attempt in 0..<2 {
            var batches: [(connection: RedisConnection, commands: [[[UInt8]]])] = []
            var batched: [Int] = []
            for index in pending {
                do {
                    batches.append((try lease.connection(endpoints[index]), Self.commands))
                    batched.append(index)
                } catch {
                    results[index] = .failure(error)
                }
            }
            for (index, result) in zip(batched, RedisConnection.pipelines(batches)) {
                results[index] = result
            }
            pending = attempt == 0 ? batched.filter { index in
                if case .failure(let error) = results[index] { return error.isLostReply && !error.isTimeout }
                return false
            } : []
            if pending.isEmpty { break }
        }
        return zip(endpoints, results).map { endpoint, result in
            Self.observation(endpoint, result)
        }
    }

    private static func observation(_ endpoint: RedisEndpoint, _ result: Result<[Result<RESPValue, RedisError>], RedisError>)
        -> NodeObservation {
        do {
            let replies = try result.get()
            let nodesReply = try replies[0].get().bytes ?? []
            let info = (try? replies[1].get().string).flatMap { $0 } ?? ""
            let keys = (try? replies[2].get().int).flatMap { $0 }.map { Int($0) }
            let server = (try? replies[3].get().string).flatMap { $0 }.flatMap(ServerVersion.parse(info:))
            return NodeObservation(address: endpoint.description, nodes: try ClusterNodesParser.parse(nodesReply),
                                   clusterState: InfoFields.parse(info)["cluster_state"], keys: keys, error: nil,
                                   server: server)
        } catch {
            return NodeObservation(address: endpoint.description, nodes: nil, clusterState: nil, keys: nil,
                                   error: String(describing: error))
        }
    }
}
