import SQLite

/// A running job's checkpoint (opaque JSON of its kind) and secrets sealed into job params.
extension Store {
    /// The checkpoint the job last saved, nil before its first.
    public func checkpoint(jobId: Int64) throws -> String? {
        try read { db in try db.query("SELECT checkpoint FROM jobs WHERE id = ?", jobId).first?.string("checkpoint") }
    }

    /// Saves the checkpoint together with the keys moved so far, in one write, so the two never disagree.
    public func saveCheckpoint(jobId: Int64, checkpoint: String, keysMoved: Int) throws {
        try writeAndPost { db in
            try db.execute("UPDATE jobs SET checkpoint = ?, keys_moved = ? WHERE id = ? AND status = 'running'",
                           checkpoint, keysMoved, jobId)
            let job = try Store.currentJob(db, jobId)
            guard db.changes == 1 else { throw StoreError.statusChanged(job: jobId, expected: [.running], actual: job.status) }
            return ((), [.job(job)])
        }
    }

    /// Seals a secret a job's params carry (a source's password) under the store's key, bound to `context`.
    public func sealSecret(_ plaintext: String, context: String) throws -> String {
        try secrets.seal(plaintext, context: context)
    }

    /// Opens what `sealSecret` sealed; `StoreError.secretKey` under another key or context.
    public func openSecret(_ sealed: String, context: String) throws -> String {
        try secrets.open(sealed, context: context)
    }
}
