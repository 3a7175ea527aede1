/// Why a store operation could not be carried out, in terms the API can map to a status.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case clusterExists(String)
    case clusterNotFound(String)
    case clusterBusy(cluster: String, job: Int64)
    case corruptRecord(String)

    public var description: String {
        switch self {
        case .clusterExists(let id): return "cluster '\(id)' is already registered"
        case .clusterNotFound(let id): return "no cluster '\(id)' is registered"
        case .clusterBusy(let id, let job): return "cluster '\(id)' has job \(job) queued or running"
        case .corruptRecord(let what): return "stored record is unreadable: \(what)"
        }
    }
}
