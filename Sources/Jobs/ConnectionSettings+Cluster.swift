import ClusterModel
import ClusterOps
import RESP
import Store

extension ConnectionSettings {
    /// The access to a registered cluster: its seeds, its credentials, its TLS and its address map.
    public func access(for cluster: ClusterRecord) -> ClusterAccess {
        access(seeds: cluster.seeds.compactMap(RedisEndpoint.init),
               credentials: cluster.password.map { RedisCredentials(username: cluster.username, password: $0) },
               tls: cluster.tls.map(TLSConfiguration.init), addressMap: cluster.addressMap ?? AddressMap())
    }
}

extension TLSConfiguration {
    /// The connections' view of a cluster's stored TLS paths.
    public init(_ tls: ClusterTLS) {
        self.init(caFile: tls.caFile, certificateFile: tls.certFile, keyFile: tls.keyFile, serverName: tls.serverName)
    }
}
