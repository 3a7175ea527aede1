import ClusterModel
import ClusterOps
import Jobs
import Store

/// What a use case refuses, in the terms its callers answer with: the API maps each case to one HTTP status.
public enum ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Malformed input (400).
    case invalid(String)
    /// No such cluster, job or snapshot (404).
    case notFound(String)
    /// Conflicts with the current state of the records (409).
    case conflict(String)
    /// Well-formed but impossible against the cluster as it is (422); `code` is machine-readable (e.g. shard_down).
    case impossible(code: String, String)
    /// The store cannot be written or read right now (503); nothing was changed.
    case unavailable(String)
    /// The cluster is not in the state the request was made against (`If-Match`, 412); nothing was changed.
    case preconditionFailed(String, etag: String)
    /// Checks before the job failed (422 `preflight_failed`); `checks` is the plan's preflight as JSON text.
    case preflightFailed(String, checks: String)
    /// The cluster's queue is full; retry after the given seconds (429).
    case queueFull(String, retryAfter: Int)

    public var description: String {
        switch self {
        case .invalid(let message), .notFound(let message), .conflict(let message), .unavailable(let message): message
        case .impossible(_, let message), .preconditionFailed(let message, _), .preflightFailed(let message, _),
             .queueFull(let message, _): message
        }
    }

    /// Errors of the layers below, as the service's callers see them. Anything else is a bug and passes through.
    static func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ServiceError {
            throw error
        } catch let error as RequestFieldError {
            throw ServiceError.invalid(error.message)
        } catch let error as StoreError {
            switch error {
            case .clusterExists, .clusterBusy, .statusChanged: throw ServiceError.conflict(error.description)
            case .clusterNotFound: throw ServiceError.notFound(error.description)
            case .unavailable: throw ServiceError.unavailable(error.description)
            case .idempotencyKeyReused: throw ServiceError.impossible(code: "idempotency_key_reused", error.description)
            case .corruptRecord, .secretKey: throw error
            }
        } catch let error as ClusterOpsError {
            throw ServiceError.impossible(code: error.code, error.description)
        } catch let error as ClusterModelError {
            throw ServiceError.impossible(code: "impossible", error.description)
        }
    }
}
