import ClusterModel
import ClusterOps
import HTTPServer
import Store

/// The one place module errors become HTTP statuses.
enum ErrorMapping {
    static func http(_ error: any Error) -> any Error {
        switch error {
        case let error as HTTPError: return error
        case let error as StoreError:
            switch error {
            case .clusterExists: return HTTPError(409, error.description)
            case .clusterNotFound: return HTTPError(404, error.description)
            case .clusterBusy: return HTTPError(409, error.description)
            case .corruptRecord: return error
            }
        case let error as ClusterOpsError: return HTTPError(422, error.description)
        case let error as ClusterModelError: return HTTPError(422, error.description)
        default: return error
        }
    }
}
