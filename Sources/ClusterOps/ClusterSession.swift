import ClusterModel
import Foundation
import RESP

/// A job's connections to one cluster. Not Sendable: a session belongs to the one thread running the job,
/// and so do the connections it caches.
public final class ClusterSession {
    public let access: ClusterAccess
    private var connections: [String: RedisConnection] = [:]

    public init(access: ClusterAccess) {
        self.access = access
    }

    deinit { close() }

    public func close() {
        connections.values.forEach { $0.close() }
        connections.removeAll()
    }

    /// A cached connection to `address`, reopened if the last one broke.
    public func connection(_ address: String) throws(ClusterOpsError) -> RedisConnection {
        if let cached = connections[address], !cached.isClosed { return cached }
        guard let endpoint = RedisEndpoint(address) else {
            throw .redis(endpoint: address, .connectFailed(endpoint: address, reason: "not host:port"))
        }
        do {
            let connection = try access.connect(endpoint)
            connections[address] = connection
            return connection
        } catch {
            throw .redis(endpoint: address, error)
        }
    }

    /// One command; a connection that broke is reopened once, for idempotent commands only.
    @discardableResult
    public func call(_ address: String, _ arguments: [String], idempotent: Bool = true) throws(ClusterOpsError) -> RESPValue {
        try call(address, bytes: arguments.map { Array($0.utf8) }, idempotent: idempotent)
    }

    @discardableResult
    public func call(_ address: String, bytes arguments: [[UInt8]], idempotent: Bool = true,
                     readTimeout: Double? = nil) throws(ClusterOpsError) -> RESPValue {
        var attempts = idempotent ? 2 : 1
        while true {
            attempts -= 1
            let connection = try connection(address)
            let previous = connection.readTimeout
            if let readTimeout { connection.readTimeout = readTimeout }
            defer { if !connection.isClosed { connection.readTimeout = previous } }
            do {
                return try connection.command(bytes: arguments)
            } catch {
                switch error {
                case .connectionClosed, .io, .timeout, .protocolError:
                    connections[address] = nil
                    if attempts > 0 { continue }
                default: break
                }
                throw .redis(endpoint: address, error)
            }
        }
    }

    /// Many commands to one node in one round trip; per-command results, I/O failure thrown.
    public func pipeline(_ address: String, _ commands: [[String]]) throws(ClusterOpsError) -> [Result<RESPValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        let connection = try connection(address)
        do {
            return try connection.pipeline(commands.map { $0.map { Array($0.utf8) } })
        } catch {
            connections[address] = nil
            throw .redis(endpoint: address, error)
        }
    }

    /// Like `pipeline`, but the first error reply is thrown.
    public func pipelineAll(_ address: String, _ commands: [[String]]) throws(ClusterOpsError) -> [RESPValue] {
        var values: [RESPValue] = []
        for result in try pipeline(address, commands) {
            switch result {
            case .success(let value): values.append(value)
            case .failure(let error): throw .redis(endpoint: address, error)
            }
        }
        return values
    }

    /// Reads the topology starting from `seeds` (default: the cluster's seeds).
    public func topology(seeds: [String]? = nil) -> (ClusterTopology, [NodeObservation]) {
        var access = self.access
        if let seeds { access.seeds = seeds.compactMap(RedisEndpoint.init) }
        let observations = TopologyReader(access: access).observe()
        return (TopologyBuilder.build(observations), observations)
    }
}
