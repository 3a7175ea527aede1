import ClusterModel
import Foundation
import RESP

/// Whether a replica holds its master's data, read from both nodes' `INFO replication`, and the wait for it to
/// get there. A replica only counts once its link is up, no full sync is running or loading, and its offset is
/// within `ReplicaSyncState.defaultBound` of the master's — what a failover needs to lose nothing and what an
/// add-node must reach before it reports the replica added.
public struct ReplicaSync {
    let session: ClusterSession
    let observer: any OperationObserver

    public init(session: ClusterSession, observer: any OperationObserver) {
        self.session = session
        self.observer = observer
    }

    /// Polls until the replica is in sync, reporting the full sync's bytes as the job's step. A replica that makes
    /// no progress for `stallLimit` seconds (no bytes received, nothing loading, link not up: a sync that never
    /// starts or keeps failing) fails early with its reason, as far as the nodes tell it; otherwise the wait ends
    /// at `timeout` with the last state.
    public func waitInSync(replica: String, master: String, timeout: Double, stallLimit: Double = 20)
        throws(ClusterOpsError) {
        let start = Date()
        var last: ReplicaSyncState = .linkDown(seconds: nil)
        var lastStep = ""
        var lastProgress = Date()
        var lastMark: Int64 = -2
        var lastMaster = ReplicationInfo.parse("")
        try session.waitUntil("\(replica) holds the data of \(master)", timeout: timeout, giveUp: { () throws(ClusterOpsError) in
            let held = Date().timeIntervalSince(start)
            throw .replicaNotSynced("\(replica) did not sync from \(master) within \(Int(held)) s: it is \(last); "
                                    + "the master's offset is \(lastMaster.masterOffset). " + diagnosis(replica: replica, master: master))
        }) { () throws(ClusterOpsError) -> Bool in
            let (state, replicaInfo, masterInfo) = try self.session.syncState(replica: replica, master: master)
            last = state
            lastMaster = masterInfo
            // Progress: bytes of the sync received, loading under way, or the link up with the offset advancing.
            let mark: Int64
            let step: String
            switch state {
            case .inSync: return true
            case .syncing(let read, let total):
                mark = replicaInfo.loading ? Int64.max : read
                step = total.map { "initial sync of \(replica): \(read) of \($0) bytes" } ?? "initial sync of \(replica): \(read) bytes"
            case .lagging(let replicaOffset, let masterOffset):
                mark = replicaOffset
                step = "\(replica) catching up: \(masterOffset - replicaOffset) bytes behind"
            case .linkDown, .notReplica:
                mark = -1
                step = "waiting for \(replica) to connect to \(master)"
            }
            // Only a new high counts: a sync that keeps failing and starting over (no masterauth) goes nowhere.
            if mark > lastMark || replicaInfo.loading {
                lastMark = mark
                lastProgress = Date()
            } else if Date().timeIntervalSince(lastProgress) > stallLimit {
                throw .replicaNotSynced("\(replica) cannot sync from \(master): \(state), with no progress for \(Int(stallLimit)) s. "
                                        + diagnosis(replica: replica, master: master))
            }
            if step != lastStep {
                lastStep = step
                self.observer.step(step)
            }
            return false
        }
        observer.event("\(replica) holds the data of \(master): \(last)", node: replica)
    }

    /// What the nodes tell of why a replica cannot sync: a password the master asks for and the replica lacks, or
    /// failed AUTHs in the master's ACL LOG. Empty when they tell nothing.
    public func diagnosis(replica: String, master: String) -> String {
        var reasons: [String] = []
        // Only whether it is empty is looked at: the value is the cluster's password and goes nowhere.
        let masterAuth = (try? session.call(replica, ["CONFIG", "GET", "masterauth"], idempotent: true).array) ?? []
        if session.access.credentials != nil, masterAuth.count == 2, (masterAuth[1].string ?? "").isEmpty {
            reasons.append("\(replica) has no masterauth set, and the master asks for a password (its AUTH fails); "
                           + "set masterauth (and masteruser for an ACL user) on \(replica)")
        }
        if let entries = try? session.call(master, ["ACL", "LOG", "10"], idempotent: true).array {
            let failures = entries.compactMap { entry -> String? in
                let fields = entry.fields ?? [:]
                guard fields["reason"]?.string == "auth", let age = fields["age-seconds"]?.string.flatMap(Double.init), age < 120 else {
                    return nil
                }
                let client = fields["client-info"]?.string ?? ""
                let addr = client.split(separator: " ").first { $0.hasPrefix("addr=") }.map { String($0.dropFirst(5)) } ?? "?"
                return "failed AUTH as '\(fields["username"]?.string ?? "?")' from \(addr)"
            }
            if !failures.isEmpty { reasons.append("\(master)'s ACL LOG: " + failures.prefix(3).joined(separator: "; ")) }
        }
        // A replica without masterauth never gets as far as AUTH: the master only counts the NOAUTH errors it answers.
        if let stats = try? session.call(master, ["INFO", "errorstats"], idempotent: true).string,
           let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("errorstat_NOAUTH:") }) {
            reasons.append("\(master) has answered NOAUTH to clients without a password (\(line.dropFirst("errorstat_NOAUTH:".count)))")
        }
        if reasons.isEmpty {
            return "Neither node says why; see \(replica)'s log (masterauth, masteruser, network between the nodes, "
                + "a master whose RDB the replica's server version cannot load)."
        }
        return reasons.joined(separator: "; ") + "."
    }
}
