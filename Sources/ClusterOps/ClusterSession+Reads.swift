import ClusterModel
import RESP

/// What the checks before and after a job read from one node; reads only, safe to repeat.
extension ClusterSession {
    /// `INFO replication` (and `loading` from `INFO persistence`).
    public func replication(_ address: String) throws(ClusterOpsError) -> ReplicationInfo {
        let text = try call(address, ["INFO", "replication", "persistence"], idempotent: true).string ?? ""
        return ReplicationInfo.parse(text)
    }

    /// A replica's state against its master's current offset (both read now), with what each node said.
    public func syncState(replica: String, master: String) throws(ClusterOpsError) -> (ReplicaSyncState, ReplicationInfo, ReplicationInfo) {
        let replicaInfo = try replication(replica)
        let masterInfo = try replication(master)
        return (ReplicaSyncState.judge(replica: replicaInfo, masterOffset: masterInfo.masterOffset), replicaInfo, masterInfo)
    }

    /// `INFO memory`.
    public func memory(_ address: String) throws(ClusterOpsError) -> MemoryInfo {
        let text = try call(address, ["INFO", "memory"], idempotent: true).string ?? ""
        guard let info = MemoryInfo.parse(text) else { throw .failed("\(address) did not report used_memory") }
        return info
    }

    /// DBSIZE, or nil when the node does not answer.
    public func keyCount(_ address: String) -> Int? {
        (try? call(address, ["DBSIZE"], idempotent: true).int).flatMap { $0 }.map { Int($0) }
    }

    /// `ACL DRYRUN user command…`: nil when allowed, else the server's reason. Throws when the check itself
    /// cannot run (no ACL DRYRUN, or the service's user may not use it).
    public func aclDryRun(_ address: String, user: String, _ command: [String]) throws(ClusterOpsError) -> String? {
        let reply = try call(address, ["ACL", "DRYRUN", user] + command, idempotent: true)
        if case .simpleString("OK") = reply { return nil }
        return reply.string ?? "denied"
    }
}
