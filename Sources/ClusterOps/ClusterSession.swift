import ClusterModel
import Foundation
import RESP

/// A job's connections to one cluster, checked out of the cluster's pool and given back by `close()` (or by the
/// lease when the session goes). Not Sendable: a session belongs to the one thread running the job, and so do
/// the connections it holds.
///
/// Nothing is sent twice unless it is safe: `call` and `pipeline` retry a broken connection only for commands
/// the caller declares idempotent, and commands that change cluster state go through `change`, which re-reads
/// the node after a lost reply instead of resending blindly.
public final class ClusterSession {
    public let access: ClusterAccess
    let lease: ConnectionLease

    public init(access: ClusterAccess) {
        self.access = access
        self.lease = ConnectionLease(access: access)
    }

    /// Returns the session's connections to the pool. The session stays usable and checks out again if needed.
    public func close() {
        lease.release()
    }

    /// The session's connection to `address`, reopened if the last one broke.
    public func connection(_ address: String) throws(ClusterOpsError) -> RedisConnection {
        guard let endpoint = RedisEndpoint(address) else {
            throw .redis(endpoint: address, .connectFailed(endpoint: address, reason: "not host:port"))
        }
        do {
            return try lease.connection(endpoint)
        } catch {
            throw .redis(endpoint: address, error)
        }
    }

    /// One command. A broken connection (closed, I/O error, timeout, garbled reply) is reopened and the command
    /// sent again once only when `idempotent` says that repeating it cannot do harm (reads, SETSLOT ... NODE /
    /// STABLE / IMPORTING / MIGRATING, MIGRATE of keys a later read checks). Anything else that changes the
    /// cluster belongs in `change`.
    @discardableResult
    public func call(_ address: String, _ arguments: [String], idempotent: Bool = false) throws(ClusterOpsError) -> RESPValue {
        try call(address, bytes: arguments.map { Array($0.utf8) }, idempotent: idempotent)
    }

    @discardableResult
    public func call(_ address: String, bytes arguments: [[UInt8]], idempotent: Bool = false,
                     readTimeout: Double? = nil) throws(ClusterOpsError) -> RESPValue {
        try exchange(address, idempotent: idempotent, readTimeout: readTimeout) { connection throws(RedisError) in
            try connection.command(bytes: arguments)
        }
    }

    /// Many commands to one node in one round trip; per-command results, I/O failure thrown. Resent once after a
    /// broken connection only when every command in it is `idempotent`.
    public func pipeline(_ address: String, _ commands: [[String]], idempotent: Bool = false, readTimeout: Double? = nil)
        throws(ClusterOpsError) -> [Result<RESPValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        let request = commands.map { $0.map { Array($0.utf8) } }
        return try exchange(address, idempotent: idempotent, readTimeout: readTimeout) { connection throws(RedisError) in
            try connection.pipeline(request)
        }
    }

    /// Raw commands in one round trip, with a read timeout of their own (MIGRATEs of big values take long).
    public func pipeline(_ address: String, bytes commands: [[[UInt8]]], idempotent: Bool = false, readTimeout: Double? = nil)
        throws(ClusterOpsError) -> [Result<RESPValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        return try exchange(address, idempotent: idempotent, readTimeout: readTimeout) { connection throws(RedisError) in
            try connection.pipeline(commands)
        }
    }

    /// Runs `body` on the session's connection to `address`, with `readTimeout` for this exchange only when given;
    /// after a lost reply it runs once more, on a new connection, only when `idempotent` — but not after a read
    /// timeout: a node that said nothing for that long is frozen or overwhelmed, and asking again would only make
    /// a job wait twice the timeout before it gives up on it.
    private func exchange<Value>(_ address: String, idempotent: Bool, readTimeout: Double? = nil,
                                 _ body: (RedisConnection) throws(RedisError) -> Value) throws(ClusterOpsError) -> Value {
        var attempts = idempotent ? 2 : 1
        while true {
            attempts -= 1
            let connection = try connection(address)
            let previous = connection.readTimeout
            if let readTimeout { connection.readTimeout = readTimeout }
            defer { if !connection.isClosed { connection.readTimeout = previous } }
            do {
                return try body(connection)
            } catch {
                if error.isLostReply && !error.isTimeout && attempts > 0 { continue }
                throw .redis(endpoint: address, error)
            }
        }
    }

    /// Like `pipeline`, but the first error reply is thrown.
    public func pipelineAll(_ address: String, _ commands: [[String]], idempotent: Bool = false, readTimeout: Double? = nil)
        throws(ClusterOpsError) -> [RESPValue] {
        var values: [RESPValue] = []
        for result in try pipeline(address, commands, idempotent: idempotent, readTimeout: readTimeout) {
            switch result {
            case .success(let value): values.append(value)
            case .failure(let error): throw .redis(endpoint: address, error)
            }
        }
        return values
    }

    /// Reads the topology starting from `seeds` (default: the cluster's seeds), over the session's connections.
    public func topology(seeds: [String]? = nil) -> (ClusterTopology, [NodeObservation]) {
        var access = self.access
        if let seeds { access.seeds = seeds.compactMap(RedisEndpoint.init) }
        let observations = TopologyReader(access: access).observe(using: lease)
        return (access.withReachableAddresses(TopologyBuilder.build(observations)), observations)
    }
}

@available(*, unavailable)
extension ClusterSession: Sendable {}
