import ClusterModel
import RESP

/// How to reach a cluster: where to start, with which credentials and TLS, and the pool its connections come from.
/// Every connection the operations make goes through `checkout`, so passwords, TLS, timeouts and the loopback rule
/// are applied in one place: nodes named by a request (create, add-node) are reached exactly as the seeds are.
public struct ClusterAccess: Sendable {
    public var seeds: [RedisEndpoint]
    public var credentials: RedisCredentials?
    /// nil: plain TCP.
    public var tls: TLSConfiguration?
    public var connectTimeout: Double
    public var readTimeout: Double
    /// When false (the default) only loopback nodes are contacted, whatever a request or a cluster names.
    public var allowRemoteNodes: Bool
    /// Where nodes that announce unreachable addresses are dialled. Every address the operations use (topology,
    /// requests, MIGRATE and MEET arguments) stays the announced one; only the socket goes to the mapped one.
    public var addressMap: AddressMap
    /// Shared by every copy; `ConnectionSettings` hands the same pool to every cluster's access.
    public var pool: ConnectionPool

    public init(seeds: [RedisEndpoint], credentials: RedisCredentials?, tls: TLSConfiguration? = nil, connectTimeout: Double = 2,
                readTimeout: Double = 5, allowRemoteNodes: Bool = false, addressMap: AddressMap = AddressMap(),
                pool: ConnectionPool = ConnectionPool()) {
        self.addressMap = addressMap
        self.seeds = seeds
        self.allowRemoteNodes = allowRemoteNodes
        self.credentials = credentials
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.pool = pool
    }

    /// A connection to `endpoint` (through the address map) authenticated with this cluster's credentials over its TLS,
    /// pooled or new. It belongs to the calling thread until given back with `checkin`. The loopback rule applies
    /// to the address actually dialled.
    public func checkout(_ endpoint: RedisEndpoint) throws(RedisError) -> RedisConnection {
        let target = dialled(endpoint)
        guard allowRemoteNodes || target.isLoopback else {
            let name = target == endpoint ? endpoint.description : "\(endpoint) (mapped to \(target))"
            throw .connectFailed(endpoint: name, reason: "not a loopback address and remote nodes are not allowed")
        }
        return try pool.checkout(target, credentials: credentials, tls: tls, connectTimeout: connectTimeout,
                                 readTimeout: readTimeout)
    }

    /// The address the service dials for a node known (announced) as `endpoint`.
    public func dialled(_ endpoint: RedisEndpoint) -> RedisEndpoint {
        guard !addressMap.isEmpty, let mapped = addressMap.reachable(host: endpoint.host, port: endpoint.port) else {
            return endpoint
        }
        return RedisEndpoint(host: mapped.host, port: mapped.port)
    }

    /// `dialled` for a `host:port` text; nil when the map does not change it.
    public func reachableAddress(_ address: String) -> String? {
        guard !addressMap.isEmpty, let endpoint = RedisEndpoint(address) else { return nil }
        let target = dialled(endpoint)
        return target == endpoint ? nil : target.description
    }

    public func checkin(_ connection: RedisConnection) {
        pool.checkin(connection)
    }
}

extension ClusterAccess {
    /// The topology with each node's `reachableAddress` set where the address map dials it elsewhere.
    public func withReachableAddresses(_ topology: ClusterTopology) -> ClusterTopology {
        guard !addressMap.isEmpty else { return topology }
        var topology = topology
        for index in topology.nodes.indices {
            topology.nodes[index].reachableAddress = reachableAddress(topology.nodes[index].address)
        }
        return topology
    }
}
