import SQLite

/// Jobs and their events. Every status change is a guarded transition (`… WHERE id = ? AND status = ?`) whose
/// effect is checked, so two threads can never both move a job, and a job the API cancelled can never start.
extension Store {
    /// Queues a job for a registered cluster.
    public func insertJob(clusterId: String, type: String, params: String, actor: String, options: String? = nil) throws -> JobRecord {
        let createdAt = Timestamp.now()
        return try writeAndPost { db in
            let job = try Store.insertJob(db, clusterId: clusterId, type: type, params: params, actor: actor, options: options,
                                          createdAt: createdAt)
            return (job, [.job(job)])
        }
    }

    static func insertJob(_ db: Connection, clusterId: String, type: String, params: String, actor: String, options: String?,
                          createdAt: String) throws -> JobRecord {
        guard try !db.query("SELECT 1 FROM clusters WHERE id = ?", clusterId).isEmpty else {
            throw StoreError.clusterNotFound(clusterId)
        }
        try db.execute("""
            INSERT INTO jobs (cluster_id, type, status, params, actor, created_at, options) VALUES (?, ?, 'queued', ?, ?, ?, ?)
            """, clusterId, type, params, actor, createdAt, options)
        return try currentJob(db, db.lastInsertRowID)
    }

    public func job(_ id: Int64) throws -> JobRecord? {
        try read { db in try db.query("SELECT * FROM jobs WHERE id = ?", id).first.map(Store.job) }
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
        return try read { db in try db.query(sql, parameters).map(Store.job) }
    }

    /// Jobs not yet finished, oldest first: the worker's queue (running ones are resumed after a restart).
    public func unfinishedJobs() throws -> [JobRecord] {
        try read { db in
            try db.query("SELECT * FROM jobs WHERE status IN ('queued','running') ORDER BY id").map(Store.job)
        }
    }

    /// How many of the cluster's jobs wait in its queue.
    public func queuedJobCount(clusterId: String) throws -> Int {
        try read { db in
            Int(try db.query("SELECT COUNT(*) AS n FROM jobs WHERE cluster_id = ? AND status = 'queued'", clusterId).first?.int("n") ?? 0)
        }
    }

    /// Whether the cluster has a job queued or running.
    public func activeJob(clusterId: String) throws -> JobRecord? {
        try read { db in
            try db.query("SELECT * FROM jobs WHERE cluster_id = ? AND status IN ('queued','running') ORDER BY id LIMIT 1",
                         clusterId).first.map(Store.job)
        }
    }

    /// The job's events after `afterId` (0 for all), oldest first.
    public func events(jobId: Int64, after afterId: Int64 = 0) throws -> [JobEvent] {
        try read { db in
            try db.query("SELECT * FROM job_events WHERE job_id = ? AND id > ? ORDER BY id", jobId, afterId).map { row in
                JobEvent(id: row.int("id") ?? 0, jobId: jobId, at: row.string("at") ?? "", level: row.string("level") ?? "info",
                         message: row.string("message") ?? "", node: row.string("node"), data: row.string("data"))
            }
        }
    }

    @discardableResult
    public func appendEvent(jobId: Int64, level: String = "info", message: String, node: String? = nil,
                            data: String? = nil) throws -> JobEvent {
        let at = Timestamp.now()
        return try writeAndPost { db in
            try db.execute("INSERT INTO job_events (job_id, at, level, message, node, data) VALUES (?, ?, ?, ?, ?, ?)",
                           jobId, at, level, message, node, data)
            let event = JobEvent(id: db.lastInsertRowID, jobId: jobId, at: at, level: level, message: message, node: node, data: data)
            return (event, [.event(event)])
        }
    }

    /// queued → running, fixing the plan the job will carry out. Nil when the job is no longer queued (it was
    /// cancelled meanwhile): then it must not start.
    public func startJob(jobId: Int64, plan: String, slotsTotal: Int, snapshotBefore: Int64?) throws -> JobRecord? {
        try writeAndPost { db in
            try db.execute("""
                UPDATE jobs SET status = 'running', plan = ?, slots_total = ?, started_at = ?, snapshot_before = ?
                WHERE id = ? AND status = 'queued' AND cancel_requested = 0
                """, plan, slotsTotal, Timestamp.now(), snapshotBefore, jobId)
            guard db.changes == 1 else { return (nil, []) }
            let job = try Store.currentJob(db, jobId)
            return (job, [.job(job)])
        }
    }

    /// Records progress of a running job. A resumed job needs no more: what is left is read from the cluster.
    /// `keysTotal` and `bytes` are kept as they were when nil.
    public func updateProgress(jobId: Int64, step: String?, slotsDone: Int, keysMoved: Int, keysTotal: Int? = nil,
                               bytes: (done: Int64, total: Int64?)? = nil) throws {
        try writeAndPost { db in
            try db.execute("""
                UPDATE jobs SET step = ?, slots_done = ?, keys_moved = ?, keys_total = COALESCE(?, keys_total),
                    bytes_done = COALESCE(?, bytes_done), bytes_total = COALESCE(?, bytes_total)
                WHERE id = ? AND status = 'running'
                """, step, slotsDone, keysMoved, keysTotal, bytes?.done, bytes?.total ?? nil, jobId)
            let job = try Store.currentJob(db, jobId)
            guard db.changes == 1 else { throw StoreError.statusChanged(job: jobId, expected: [.running], actual: job.status) }
            return ((), [.job(job)])
        }
    }

    /// `from` → a final status. Throws `.statusChanged` when the job was not in `from`.
    @discardableResult
    public func finishJob(jobId: Int64, from: JobStatus, to status: JobStatus, errorCode: String? = nil,
                          errorMessage: String? = nil, snapshotAfter: Int64? = nil) throws -> JobRecord {
        precondition(status.isFinished, "finishJob needs a final status")
        return try writeAndPost { db in
            try db.execute("""
                UPDATE jobs SET status = ?, error_code = ?, error_message = ?, finished_at = ?, snapshot_after = ?
                WHERE id = ? AND status = ?
                """, status.rawValue, errorCode, errorMessage, Timestamp.now(), snapshotAfter, jobId, from.rawValue)
            let changed = db.changes == 1
            let job = try Store.currentJob(db, jobId)
            guard changed else { throw StoreError.statusChanged(job: jobId, expected: [from], actual: job.status) }
            return (job, [.job(job)])
        }
    }

    /// A queued job is cancelled at once (queued → cancelled); a running one is flagged for the worker's next safe
    /// point. Returns the job as it now stands, or nil if there is no such job. Who asked is audited and is an
    /// event of the job.
    public func requestCancel(jobId: Int64, actor: String = "anonymous") throws -> JobRecord? {
        try writeAndPost { db in
            guard let job = try db.query("SELECT * FROM jobs WHERE id = ?", jobId).first.map(Store.job) else { return (nil, []) }
            switch job.status {
            case .queued:
                try db.execute("""
                    UPDATE jobs SET status = 'cancelled', cancel_requested = 1, finished_at = ? WHERE id = ? AND status = 'queued'
                    """, Timestamp.now(), jobId)
            case .running:
                try db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'", jobId)
            case .succeeded, .failed, .cancelled:
                return (job, [])
            }
            let changed = db.changes == 1
            let updated = try Store.currentJob(db, jobId)
            guard changed else { throw StoreError.statusChanged(job: jobId, expected: [job.status], actual: updated.status) }
            let at = Timestamp.now()
            try Store.audit(db, actor: actor, action: "job.cancel", clusterId: job.clusterId, jobId: jobId, at: at)
            let message = "cancel requested by \(actor)"
            try db.execute("INSERT INTO job_events (job_id, at, level, message) VALUES (?, ?, 'info', ?)", jobId, at, message)
            let event = JobEvent(id: db.lastInsertRowID, jobId: jobId, at: at, level: "info", message: message, node: nil, data: nil)
            return (updated, [.event(event), .job(updated)])
        }
    }

    /// Records what the job answers (JSON text); only while it runs.
    public func setResult(jobId: Int64, result: String) throws {
        try writeAndPost { db in
            try db.execute("UPDATE jobs SET result = ? WHERE id = ? AND status = 'running'", result, jobId)
            return ((), db.changes == 1 ? [.job(try Store.currentJob(db, jobId))] : [])
        }
    }

    /// Records the post-conditions a job checked as it ended (JSON); only while it runs.
    public func setVerification(jobId: Int64, verification: String) throws {
        try writeAndPost { db in
            try db.execute("UPDATE jobs SET verification = ? WHERE id = ? AND status = 'running'", verification, jobId)
            return ((), db.changes == 1 ? [.job(try Store.currentJob(db, jobId))] : [])
        }
    }

    /// Records the rate a job moved keys at, and by which method.
    public func setMoveRate(jobId: Int64, keysPerSecond: Double, method: String) throws {
        try write { db in
            try db.execute("UPDATE jobs SET keys_per_second = ?, move_method = ? WHERE id = ?", keysPerSecond, method, jobId)
        }
    }

    /// The rate the cluster's newest succeeded job that moved keys by `method` achieved, if any.
    public func lastMoveRate(clusterId: String, method: String) throws -> Double? {
        try read { db in
            try db.query("""
                SELECT keys_per_second FROM jobs WHERE cluster_id = ? AND move_method = ? AND status = 'succeeded'
                AND keys_per_second > 0 ORDER BY id DESC LIMIT 1
                """, clusterId, method).first?.double("keys_per_second")
        }
    }

    static func currentJob(_ db: Connection, _ id: Int64) throws -> JobRecord {
        guard let job = try db.query("SELECT * FROM jobs WHERE id = ?", id).first.map(Store.job) else {
            throw StoreError.corruptRecord("job \(id) vanished")
        }
        return job
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
            snapshotAfter: row.int("snapshot_after"), result: row.string("result"), options: row.string("options"),
            verification: row.string("verification"), keysTotal: row.int("keys_total").map { Int($0) },
            bytesDone: row.int("bytes_done"), bytesTotal: row.int("bytes_total"))
    }
}

extension Store {
    public func jobCountsByStatus() throws -> [JobStatus: Int] {
        try read { db in
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
