import SQLite

extension Store {
    /// Queues a job for a registered cluster.
    public func insertJob(clusterId: String, type: String, params: String, plan: String?, actor: String) throws -> JobRecord {
        let createdAt = Timestamp.now()
        return try database.write { db in
            guard try !db.query("SELECT 1 FROM clusters WHERE id = ?", clusterId).isEmpty else {
                throw StoreError.clusterNotFound(clusterId)
            }
            try db.execute("""
                INSERT INTO jobs (cluster_id, type, status, params, plan, actor, created_at) VALUES (?, ?, 'queued', ?, ?, ?, ?)
                """, clusterId, type, params, plan, actor, createdAt)
            let id = db.lastInsertRowID
            guard let job = try db.query("SELECT * FROM jobs WHERE id = ?", id).first.map(Store.job) else {
                throw StoreError.corruptRecord("job \(id) vanished after insert")
            }
            return job
        }
    }

    public func job(_ id: Int64) throws -> JobRecord? {
        try database.read { db in try db.query("SELECT * FROM jobs WHERE id = ?", id).first.map(Store.job) }
    }

    /// The audit list: newest first, filtered, at most `filter.limit` rows older than the cursor.
    public func jobs(_ filter: JobFilter) throws -> [JobRecord] {
        var conditions = ["id < ?"]
        var parameters: [any SQLiteBindable] = [filter.before ?? Int64.max]
        if let clusterId = filter.clusterId { conditions.append("cluster_id = ?"); parameters.append(clusterId) }
        if let status = filter.status { conditions.append("status = ?"); parameters.append(status.rawValue) }
        if let type = filter.type { conditions.append("type = ?"); parameters.append(type) }
        if let since = filter.since { conditions.append("created_at >= ?"); parameters.append(since) }
        if let until = filter.until { conditions.append("created_at <= ?"); parameters.append(until) }
        parameters.append(filter.limit)
        let sql = "SELECT * FROM jobs WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?"
        return try database.read { db in try db.query(sql, parameters).map(Store.job) }
    }

    /// Jobs not yet finished, oldest first: the worker's queue (running ones are resumed after a restart).
    public func unfinishedJobs() throws -> [JobRecord] {
        try database.read { db in
            try db.query("SELECT * FROM jobs WHERE status IN ('queued','running') ORDER BY id").map(Store.job)
        }
    }

    public func events(jobId: Int64) throws -> [JobEvent] {
        try database.read { db in
            try db.query("SELECT * FROM job_events WHERE job_id = ? ORDER BY id", jobId).map { row in
                JobEvent(id: row.int("id") ?? 0, jobId: jobId, at: row.string("at") ?? "", level: row.string("level") ?? "info",
                         message: row.string("message") ?? "", node: row.string("node"), data: row.string("data"))
            }
        }
    }

    public func appendEvent(jobId: Int64, level: String = "info", message: String, node: String? = nil, data: String? = nil) throws {
        try database.write { db in
            try db.execute("INSERT INTO job_events (job_id, at, level, message, node, data) VALUES (?, ?, ?, ?, ?, ?)",
                           jobId, Timestamp.now(), level, message, node, data)
        }
    }

    public func markRunning(jobId: Int64, snapshotBefore: Int64?) throws {
        try database.write { db in
            try db.execute("""
                UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, ?),
                    snapshot_before = COALESCE(snapshot_before, ?) WHERE id = ?
                """, Timestamp.now(), snapshotBefore, jobId)
        }
    }

    public func setPlan(jobId: Int64, plan: String) throws {
        try database.write { db in try db.execute("UPDATE jobs SET plan = ? WHERE id = ?", plan, jobId) }
    }

    /// Records progress. A resumed job needs no more than this: what is left to do is read from the cluster itself.
    public func updateProgress(jobId: Int64, step: String?, slotsTotal: Int, slotsDone: Int, keysMoved: Int) throws {
        try database.write { db in
            try db.execute("""
                UPDATE jobs SET step = ?, slots_total = ?, slots_done = ?, keys_moved = ? WHERE id = ?
                """, step, slotsTotal, slotsDone, keysMoved, jobId)
        }
    }

    public func finishJob(jobId: Int64, status: JobStatus, errorCode: String? = nil, errorMessage: String? = nil,
                          snapshotAfter: Int64?) throws {
        try database.write { db in
            try db.execute("""
                UPDATE jobs SET status = ?, error_code = ?, error_message = ?, finished_at = ?, snapshot_after = ? WHERE id = ?
                """, status.rawValue, errorCode, errorMessage, Timestamp.now(), snapshotAfter, jobId)
        }
    }

    /// A queued job is cancelled at once; a running one is flagged for the worker's next safe point.
    /// Returns the job as it now stands, or nil if there is no such job.
    public func requestCancel(jobId: Int64) throws -> JobRecord? {
        try database.write { db in
            guard let job = try db.query("SELECT * FROM jobs WHERE id = ?", jobId).first.map(Store.job) else { return nil }
            switch job.status {
            case .queued:
                try db.execute("UPDATE jobs SET status = 'cancelled', cancel_requested = 1, finished_at = ? WHERE id = ?",
                               Timestamp.now(), jobId)
            case .running:
                try db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", jobId)
            case .succeeded, .failed, .cancelled:
                return job
            }
            return try db.query("SELECT * FROM jobs WHERE id = ?", jobId).first.map(Store.job)
        }
    }

    public func isCancelRequested(jobId: Int64) throws -> Bool {
        try database.read { db in
            (try db.query("SELECT cancel_requested FROM jobs WHERE id = ?", jobId).first?.int("cancel_requested") ?? 0) != 0
        }
    }

    static func job(_ row: Row) throws -> JobRecord {
        guard let id = row.int("id"), let status = row.string("status").flatMap(JobStatus.init(rawValue:)) else {
            throw StoreError.corruptRecord("job row without id or with an unknown status")
        }
        return JobRecord(
            id: id, clusterId: row.string("cluster_id") ?? "", type: row.string("type") ?? "", status: status,
            params: row.string("params") ?? "{}", plan: row.string("plan"), step: row.string("step"),
            slotsTotal: Int(row.int("slots_total") ?? 0), slotsDone: Int(row.int("slots_done") ?? 0),
            keysMoved: Int(row.int("keys_moved") ?? 0),
            cancelRequested: (row.int("cancel_requested") ?? 0) != 0, errorCode: row.string("error_code"),
            errorMessage: row.string("error_message"), actor: row.string("actor") ?? "anonymous",
            createdAt: row.string("created_at") ?? "", startedAt: row.string("started_at"),
            finishedAt: row.string("finished_at"), snapshotBefore: row.int("snapshot_before"),
            snapshotAfter: row.int("snapshot_after"))
    }
}

extension Store {
    public func jobCountsByStatus() throws -> [JobStatus: Int] {
        try database.read { db in
            var counts: [JobStatus: Int] = [:]
            for row in try db.query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status") {
                if let status = row.string("status").flatMap(JobStatus.init(rawValue:)) {
                    counts[status] = Int(row.int("n") ?? 0)
                }
            }
            return counts
        }
    }
}
