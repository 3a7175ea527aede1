import SQLite

extension Store {
    @discardableResult
    public func insertSnapshot(clusterId: String, reason: String, jobId: Int64?, topology: String) throws -> SnapshotRecord {
        let createdAt = Timestamp.now()
        return try write { db in
            try db.execute("INSERT INTO snapshots (cluster_id, created_at, reason, job_id, topology) VALUES (?, ?, ?, ?, ?)",
                           clusterId, createdAt, reason, jobId, topology)
            return SnapshotRecord(id: db.lastInsertRowID, clusterId: clusterId, createdAt: createdAt, reason: reason,
                                  jobId: jobId, topology: topology)
        }
    }

    /// Newest first; `before` is the cursor (a snapshot id). The topology text is included.
    public func snapshots(clusterId: String, before: Int64?, limit: Int) throws -> [SnapshotRecord] {
        try read { db in
            try db.query("""
                SELECT * FROM snapshots WHERE cluster_id = ? AND id < ? ORDER BY id DESC LIMIT ?
                """, clusterId, before ?? Int64.max, limit).map(Store.snapshot)
        }
    }

    public func snapshot(clusterId: String, id: Int64) throws -> SnapshotRecord? {
        try read { db in
            try db.query("SELECT * FROM snapshots WHERE cluster_id = ? AND id = ?", clusterId, id).first.map(Store.snapshot)
        }
    }

    static func snapshot(_ row: Row) -> SnapshotRecord {
        SnapshotRecord(id: row.int("id") ?? 0, clusterId: row.string("cluster_id") ?? "",
                       createdAt: row.string("created_at") ?? "", reason: row.string("reason") ?? "",
                       jobId: row.int("job_id"), topology: row.string("topology") ?? "null")
    }
}
