import ClusterOps
import RESP
import Store

extension ConnectionSettings {
    /// The access to a registered cluster: its seeds and its credentials.
    public func access(for cluster: ClusterRecord) -> ClusterAccess {
        access(seeds: cluster.seeds.compactMap(RedisEndpoint.init),
               credentials: cluster.password.map { RedisCredentials(username: cluster.username, password: $0) })
    }
}
