import RESP

/// How to reach a cluster: where to start and with which credentials. Every connection the operations make
/// goes through `connect`, so passwords and timeouts are applied in one place.
public struct ClusterAccess: Sendable {
    public var seeds: [RedisEndpoint]
    public var credentials: RedisCredentials?
    public var connectTimeout: Double
    public var readTimeout: Double
    /// When false (the default) only loopback nodes are contacted, whatever a request or a cluster names.
    public var allowRemoteNodes: Bool

    public init(seeds: [RedisEndpoint], credentials: RedisCredentials?, connectTimeout: Double = 2, readTimeout: Double = 5,
                allowRemoteNodes: Bool = false) {
        self.seeds = seeds
        self.allowRemoteNodes = allowRemoteNodes
        self.credentials = credentials
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    public func connect(_ endpoint: RedisEndpoint) throws(RedisError) -> RedisConnection {
        guard allowRemoteNodes || endpoint.isLoopback else {
            throw .connectFailed(endpoint: endpoint.description, reason: "not a loopback address and remote nodes are not allowed")
        }
        return try RedisConnection(endpoint: endpoint, credentials: credentials, connectTimeout: connectTimeout, readTimeout: readTimeout)
    }
}
