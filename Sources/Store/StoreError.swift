/// Why a store operation could not be carried out, in terms the API can map to a status.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case clusterExists(String)
    case clusterNotFound(String)
    case clusterBusy(cluster: String, job: Int64)
    case corruptRecord(String)
    /// A guarded status change found the job in another status than the one it expects: someone else moved it first.
    case statusChanged(job: Int64, expected: [JobStatus], actual: JobStatus?)
    /// The database cannot be written (or read) right now: disk full, a file-size limit, I/O error, or locked by
    /// another process past the busy timeout. Nothing was changed; the same call may succeed later.
    case unavailable(String)
    /// The secret key is missing, malformed, or does not open the passwords stored with it.
    case secretKey(String)
    /// An Idempotency-Key already used (within its lifetime) for a different request.
    case idempotencyKeyReused(String)

    public var description: String {
        switch self {
        case .clusterExists(let id): return "cluster '\(id)' is already registered"
        case .clusterNotFound(let id): return "no cluster '\(id)' is registered"
        case .clusterBusy(let id, let job): return "cluster '\(id)' has job \(job) queued or running"
        case .corruptRecord(let what): return "stored record is unreadable: \(what)"
        case .statusChanged(let job, let expected, let actual):
            return "job \(job) is \(actual?.rawValue ?? "gone"), not \(expected.map(\.rawValue).joined(separator: " or "))"
        case .unavailable(let reason): return "the job store is unavailable: \(reason)"
        case .secretKey(let reason): return "secret key: \(reason)"
        case .idempotencyKeyReused(let key):
            return "Idempotency-Key '\(key)' was used for a different request in the last 24 hours; use a new key"
        }
    }
}
