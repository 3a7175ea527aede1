import Foundation
import SQLite

/// A job request's `Idempotency-Key`, whose it is, and what it asked (a digest of the endpoint and the body).
public struct IdempotencyKey: Sendable, Equatable {
    public var owner: String
    public var key: String
    public var request: String

    public init(owner: String, key: String, request: String) {
        self.owner = owner
        self.key = key
        self.request = request
    }

    /// How long a key keeps answering with its job.
    public static let lifetime: TimeInterval = 86_400
}

extension Store {
    /// The job an earlier request with this key made within the key's lifetime, or nil. The same key with another
    /// request is refused.
    public func job(for idempotency: IdempotencyKey) throws -> JobRecord? {
        try read { db in try Store.job(for: keyed(idempotency), db) }
    }

    /// The request digest as stored: keyed with the secret key, so a stored digest of a body that carries a password
    /// cannot be checked against guessed passwords.
    func keyed(_ idempotency: IdempotencyKey) -> IdempotencyKey {
        var keyed = idempotency
        keyed.request = secrets.mac(idempotency.request)
        return keyed
    }

    static func job(for idempotency: IdempotencyKey, _ db: Connection) throws -> JobRecord? {
        let since = Timestamp.format(Date().addingTimeInterval(-IdempotencyKey.lifetime))
        guard let row = try db.query("""
            SELECT request, job_id FROM idempotency_keys WHERE owner = ? AND key = ? AND created_at >= ?
            """, idempotency.owner, idempotency.key, since).first else { return nil }
        guard row.string("request") == idempotency.request else {
            throw StoreError.idempotencyKeyReused(idempotency.key)
        }
        return try db.query("SELECT * FROM jobs WHERE id = ?", row.int("job_id") ?? 0).first.map(Store.job)
    }

    /// Queues a job, or answers the job an earlier request with the same key made (`created` false). The check and
    /// the insert are one transaction, so two racing requests with one key make one job.
    public func insertJob(clusterId: String, type: String, params: String, actor: String, options: String? = nil,
                          idempotency: IdempotencyKey?) throws -> (job: JobRecord, created: Bool) {
        guard let idempotency = idempotency.map(keyed) else {
            return (try insertJob(clusterId: clusterId, type: type, params: params, actor: actor, options: options), true)
        }
        let createdAt = Timestamp.now()
        return try writeAndPost { db in
            if let existing = try Store.job(for: idempotency, db) { return ((existing, false), []) }
            let job = try Store.insertJob(db, clusterId: clusterId, type: type, params: params, actor: actor, options: options,
                                          createdAt: createdAt)
            try db.execute("""
                INSERT OR REPLACE INTO idempotency_keys (owner, key, request, job_id, created_at) VALUES (?, ?, ?, ?, ?)
                """, idempotency.owner, idempotency.key, idempotency.request, job.id, createdAt)
            return ((job, true), [.job(job)])
        }
    }

    /// Forgets keys past their lifetime.
    public func pruneIdempotencyKeys() throws -> Int {
        let before = Timestamp.format(Date().addingTimeInterval(-IdempotencyKey.lifetime))
        return try write { db in
            try db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", before)
            return db.changes
        }
    }
}
