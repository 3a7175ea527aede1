import Foundation
import SQLite

extension Store {
    /// Written inside the transaction of the act it records, so the act and its record commit together.
    static func audit(_ db: Connection, actor: String, action: String, clusterId: String, jobId: Int64? = nil,
                      at: String) throws {
        try db.execute("INSERT INTO audit_log (at, actor, action, cluster_id, job_id) VALUES (?, ?, ?, ?, ?)",
                       at, actor, action, clusterId, jobId)
    }

    /// Newest first; `before` is the cursor (an entry id).
    public func auditLog(clusterId: String?, before: Int64?, limit: Int) throws -> [AuditEntry] {
        try read { db in
            try db.query("""
                SELECT * FROM audit_log WHERE (?1 IS NULL OR cluster_id = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3
                """, clusterId, before ?? Int64.max, limit).map { row in
                AuditEntry(id: row.int("id") ?? 0, at: row.string("at") ?? "", actor: row.string("actor") ?? "",
                           action: row.string("action") ?? "", clusterId: row.string("cluster_id") ?? "",
                           jobId: row.int("job_id"))
            }
        }
    }
}

/// What one pruning pass removed.
public struct PruneResult: Sendable, Equatable {
    public var events = 0
    public var snapshots = 0

    public init(events: Int = 0, snapshots: Int = 0) {
        self.events = events
        self.snapshots = snapshots
    }
}

extension Store {
    /// Removes the events and snapshots of jobs that finished before `cutoff`, and manual snapshots taken before it.
    /// A queued or running job's records are never touched, whatever their age; jobs themselves and the audit log
    /// stay. Works in batches of `batch` rows per transaction so the API is never locked out for long.
    public func prune(before cutoff: Date, batch: Int = 2000) throws -> PruneResult {
        let stamp = Timestamp.format(cutoff)
        var result = PruneResult()
        while true {
            let removed = try write { db -> Int in
                try db.execute("""
                    DELETE FROM job_events WHERE id IN (
                        SELECT e.id FROM job_events e JOIN jobs j ON j.id = e.job_id
                        WHERE j.status IN ('succeeded','failed','cancelled') AND j.finished_at < ? LIMIT ?)
                    """, stamp, batch)
                return Int(db.changes)
            }
            result.events += removed
            if removed < batch { break }
        }
        while true {
            let removed = try write { db -> Int in
                try db.execute("""
                    DELETE FROM snapshots WHERE id IN (
                        SELECT s.id FROM snapshots s LEFT JOIN jobs j ON j.id = s.job_id
                        WHERE s.created_at < ?1 AND (s.job_id IS NULL
                            OR (j.status IN ('succeeded','failed','cancelled') AND j.finished_at < ?1)
                            OR j.id IS NULL)
                        LIMIT ?2)
                    """, stamp, batch)
                return Int(db.changes)
            }
            result.snapshots += removed
            if removed < batch { break }
        }
        return result
    }
}
