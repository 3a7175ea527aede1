import RESP

/// The connections one thread has checked out of a cluster's pool, at most one per node, reused across calls
/// and given back together by `release`. Not Sendable: it belongs to the thread running the job or the read.
final class ConnectionLease {
    let access: ClusterAccess
    private var held: [RedisEndpoint: RedisConnection] = [:]

    init(access: ClusterAccess) {
        self.access = access
    }

    deinit { release() }

    /// The held connection to `endpoint`, or a pooled/new one if none is held or the held one broke.
    func connection(_ endpoint: RedisEndpoint) throws(RedisError) -> RedisConnection {
        if let connection = held[endpoint], !connection.isClosed { return connection }
        let connection = try access.checkout(endpoint)
        held[endpoint] = connection
        return connection
    }

    /// Gives every held connection back to the pool; broken ones are dropped there.
    func release() {
        let connections = held.values
        held.removeAll()
        connections.forEach(access.checkin)
    }
}

@available(*, unavailable)
extension ConnectionLease: Sendable {}
