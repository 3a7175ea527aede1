import Foundation
import RESP

/// What the atomic migrator needs from the cluster: commands to nodes, a clock and a pause. A job's session is the
/// real one; unit tests script the replies of servers that are not available here (Redis 8.4).
public protocol MigrationNodeIO: AnyObject {
    /// One command; `idempotent` says whether it may be sent again after a lost reply.
    func call(_ address: String, _ command: [String], idempotent: Bool) throws(ClusterOpsError) -> RESPValue
    /// Many read-only commands to one node in one round trip, with per-command results.
    func reads(_ address: String, _ commands: [[String]]) throws(ClusterOpsError) -> [Result<RESPValue, RedisError>]
    /// Seconds on a monotonic clock.
    var now: Double { get }
    func pause(_ seconds: Double)
}

extension ClusterSession: MigrationNodeIO {
    public func reads(_ address: String, _ commands: [[String]]) throws(ClusterOpsError) -> [Result<RESPValue, RedisError>] {
        try pipeline(address, commands, idempotent: true)
    }

    public var now: Double { ProcessInfo.processInfo.systemUptime }

    public func pause(_ seconds: Double) {
        Thread.sleep(forTimeInterval: seconds)
    }
}
