/// What a node says of its replication in `INFO replication`: as a replica, its link to its master and how far it
/// has read; as a master, its offset and its replicas' acknowledged offsets. Redis and Valkey name the same fields
/// (Valkey keeps the `slave` spellings for compatibility).
public struct ReplicationInfo: Sendable, Equatable {
    public struct Replica: Sendable, Equatable {
        public var address: String
        /// "online" once the replica has loaded the first sync; "wait_bgsave", "send_bulk" before.
        public var state: String
        public var offset: Int64
    }

    /// "master" or "slave".
    public var role: String
    /// The master's `host:port`, on a replica.
    public var masterAddress: String?
    /// `master_link_status` is "up".
    public var linkUp: Bool
    /// `master_sync_in_progress:1`: a full sync is being received (or is about to be).
    public var syncInProgress: Bool
    /// Bytes of the RDB being received, when the master said (-1 for a diskless transfer of unknown size).
    public var syncTotalBytes: Int64?
    public var syncReadBytes: Int64?
    /// Seconds the link has been down (-1 when it never came up), on a replica.
    public var linkDownSeconds: Int64?
    /// `slave_repl_offset` on a replica: how much of the master's stream it has applied.
    public var replicaOffset: Int64?
    /// `master_repl_offset`: on a master, the offset it has produced; on a replica, the same as it applied it.
    public var masterOffset: Int64
    /// `master_replid`: a replica that has synced shares its master's.
    public var replicationId: String?
    /// On a master, its replicas.
    public var replicas: [Replica]
    /// `loading:1` from `INFO persistence`, when the reply included it: the replica is still loading the RDB.
    public var loading: Bool

    public var isReplica: Bool { role == "slave" || role == "replica" }

    public static func parse(_ text: String) -> ReplicationInfo {
        let fields = InfoFields.parse(text)
        // `slave0:ip=…,port=…,state=…,offset=…` lines, in their order.
        var replicas: [Replica] = []
        while let line = fields["slave\(replicas.count)"], let replica = Self.replica(line) { replicas.append(replica) }
        func int(_ name: String) -> Int64? { fields[name].flatMap { Int64($0) } }
        var masterAddress: String?
        if let host = fields["master_host"], let port = fields["master_port"] {
            masterAddress = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
        return ReplicationInfo(
            role: fields["role"] ?? "master", masterAddress: masterAddress,
            linkUp: fields["master_link_status"] == "up", syncInProgress: int("master_sync_in_progress") == 1,
            syncTotalBytes: int("master_sync_total_bytes"), syncReadBytes: int("master_sync_read_bytes"),
            linkDownSeconds: int("master_link_down_since_seconds"), replicaOffset: int("slave_repl_offset"),
            masterOffset: int("master_repl_offset") ?? 0, replicationId: fields["master_replid"],
            replicas: replicas, loading: int("loading") == 1)
    }

    /// `ip=127.0.0.1,port=7004,state=online,offset=1234,lag=0`
    private static func replica(_ value: String) -> Replica? {
        var parts: [Substring: Substring] = [:]
        for pair in value.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { parts[kv[0]] = kv[1] }
        }
        guard let ip = parts["ip"], let port = parts["port"] else { return nil }
        return Replica(address: ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)", state: String(parts["state"] ?? ""),
                       offset: parts["offset"].flatMap { Int64($0) } ?? 0)
    }
}

/// Whether a replica holds its master's data: the judgement failover and add-node wait on, kept pure so every
/// case is tested without a server.
public enum ReplicaSyncState: Sendable, Equatable, CustomStringConvertible {
    /// Link up, no sync running, nothing loading, and at most `bound` bytes behind.
    case inSync(lag: Int64)
    /// Link up but behind by `lag` bytes (of the master's `masterOffset`).
    case lagging(replicaOffset: Int64, masterOffset: Int64)
    /// The first (or a new) full sync is running: `read` of `total` bytes (total nil while unknown).
    case syncing(read: Int64, total: Int64?)
    /// Not connected to its master: no sync has started, or the link broke.
    case linkDown(seconds: Int64?)
    /// The node is not a replica (it was promoted, or never attached).
    case notReplica

    /// Bytes a replica may trail its master by and still count as in sync: writes in flight between two reads.
    public static let defaultBound: Int64 = 1_048_576

    public static func judge(replica: ReplicationInfo, masterOffset: Int64, bound: Int64 = defaultBound) -> ReplicaSyncState {
        guard replica.isReplica else { return .notReplica }
        if replica.syncInProgress || replica.loading {
            return .syncing(read: max(0, replica.syncReadBytes ?? 0), total: (replica.syncTotalBytes ?? -1) > 0 ? replica.syncTotalBytes : nil)
        }
        guard replica.linkUp else { return .linkDown(seconds: replica.linkDownSeconds) }
        let offset = replica.replicaOffset ?? replica.masterOffset
        let lag = masterOffset - offset
        return lag <= bound ? .inSync(lag: max(0, lag)) : .lagging(replicaOffset: offset, masterOffset: masterOffset)
    }

    public var isInSync: Bool { if case .inSync = self { true } else { false } }

    public var description: String {
        switch self {
        case .inSync(let lag): "in sync (\(lag) bytes behind)"
        case .lagging(let replica, let master): "behind: offset \(replica) of the master's \(master) (\(master - replica) bytes)"
        case .syncing(let read, let total):
            total.map { "full sync running: \(read) of \($0) bytes received" } ?? "full sync running: \(read) bytes received"
        case .linkDown(let seconds):
            if let seconds, seconds >= 0 { "link to its master down for \(seconds) s" } else { "link to its master not up yet (no sync has completed)" }
        case .notReplica: "not a replica"
        }
    }
}
