import ClusterModel
import RESP

/// How the service connects to any cluster: the same for topology reads and for jobs.
public struct ConnectionSettings: Sendable {
    /// Off by default: only loopback nodes may be registered or contacted.
    public var allowRemoteNodes: Bool
    public var connectTimeout: Double
    public var readTimeout: Double
    /// One pool for the whole service: every copy of these settings, and every access made from them, shares it.
    public let pool: ConnectionPool

    public init(allowRemoteNodes: Bool = false, connectTimeout: Double = 2, readTimeout: Double = 10) {
        self.allowRemoteNodes = allowRemoteNodes
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.pool = ConnectionPool()
    }

    public func access(seeds: [RedisEndpoint], credentials: RedisCredentials?, tls: TLSConfiguration? = nil,
                       addressMap: AddressMap = AddressMap()) -> ClusterAccess {
        ClusterAccess(seeds: seeds, credentials: credentials, tls: tls, connectTimeout: connectTimeout, readTimeout: readTimeout,
                      allowRemoteNodes: allowRemoteNodes, addressMap: addressMap, pool: pool)
    }
}
