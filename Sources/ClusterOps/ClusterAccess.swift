import RESP

/// How to reach a cluster: where to start, with which credentials, and the pool its connections come from.
/// Every connection the operations make goes through `checkout`, so passwords, timeouts and the loopback rule
/// are applied in one place.
public struct ClusterAccess: Sendable {
    public var seeds: [RedisEndpoint]
    public var credentials: RedisCredentials?
    public var connectTimeout: Double
    public var readTimeout: Double
    /// When false (the default) only loopback nodes are contacted, whatever a request or a cluster names.
    public var allowRemoteNodes: Bool
    /// Shared by every copy; `ConnectionSettings` hands the same pool to every cluster's access.
    public var pool: ConnectionPool

    public init(seeds: [RedisEndpoint], credentials: RedisCredentials?, connectTimeout: Double = 2, readTimeout: Double = 5,
                allowRemoteNodes: Bool = false, pool: ConnectionPool = ConnectionPool()) {
        self.seeds = seeds
        self.allowRemoteNodes = allowRemoteNodes
        self.credentials = credentials
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.pool = pool
    }

    /// A connection to `endpoint` authenticated with this cluster's credentials, pooled or new. It belongs to the
    /// calling thread until given back with `checkin`.
    public func checkout(_ endpoint: RedisEndpoint) throws(RedisError) -> RedisConnection {
        guard allowRemoteNodes || endpoint.isLoopback else {
            throw .connectFailed(endpoint: endpoint.description, reason: "not a loopback address and remote nodes are not allowed")
        }
        return try pool.checkout(endpoint, credentials: credentials, connectTimeout: connectTimeout, readTimeout: readTimeout)
    }

    public func checkin(_ connection: RedisConnection) {
        pool.checkin(connection)
    }
}
