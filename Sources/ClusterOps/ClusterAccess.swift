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
    /// Shared by every copy; `ConnectionSettings` hands the same pool to every cluster's access.
    public var pool: ConnectionPool

    public init(seeds: [RedisEndpoint], credentials: RedisCredentials?, tls: TLSConfiguration? = nil, connectTimeout: Double = 2,
                readTimeout: Double = 5, allowRemoteNodes: Bool = false, pool: ConnectionPool = ConnectionPool()) {
        self.seeds = seeds
        self.allowRemoteNodes = allowRemoteNodes
        self.credentials = credentials
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.pool = pool
    }

    /// A connection to `endpoint` authenticated with this cluster's credentials over its TLS, pooled or new. It belongs to the
    /// calling thread until given back with `checkin`.
    public func checkout(_ endpoint: RedisEndpoint) throws(RedisError) -> RedisConnection {
        guard allowRemoteNodes || endpoint.isLoopback else {
            throw .connectFailed(endpoint: endpoint.description, reason: "not a loopback address and remote nodes are not allowed")
        }
        return try pool.checkout(endpoint, credentials: credentials, tls: tls, connectTimeout: connectTimeout,
                                 readTimeout: readTimeout)
    }

    public func checkin(_ connection: RedisConnection) {
        pool.checkin(connection)
    }
}
