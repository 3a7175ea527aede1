import ClusterOps
import Foundation
import HTTPServer
import Jobs
import Service
import Store

/// Maps HTTP routes to the service layer: clusters, snapshots, jobs, and the service's own health and metrics.
public final class APIService: Sendable {
    let metrics = Metrics()
    let log: @Sendable (String) -> Void
    public let router: Router

    /// `heartbeat` is the seconds between comment lines on an idle event stream.
    public init(store: Store, settings: ConnectionSettings = ConnectionSettings(), heartbeat: Double = 15,
                log: @escaping @Sendable (String) -> Void) {
        self.log = log
        var router = Router(log: log)
        APIService.addRoutes(to: &router, clusters: ClusterService(store: store, settings: settings),
                             jobs: JobService(store: store, settings: settings), metrics: metrics,
                             heartbeat: heartbeat)
        self.router = router
    }

    /// The server's handler: the router, counted for /metrics (a parked response counts when it is answered).
    public var handler: HTTPHandler {
        let router = self.router
        let metrics = self.metrics
        return { request in
            let response = router.handle(request)
            if !response.isDeferred {
                metrics.record(method: request.method, status: response.status)
            }
            return response
        }
    }

    /// Wraps a route so service errors become problem+json with their status.
    static func route(_ body: @escaping @Sendable (HTTPRequest, RouteParameters) throws -> HTTPResponse) -> Router.Handler {
        return { request, parameters in
            do {
                return try body(request, parameters)
            } catch let error as ServiceError {
                return Problem.response(error)
            }
        }
    }

    private static func addRoutes(to router: inout Router, clusters: ClusterService, jobs: JobService,
                                  metrics: Metrics, heartbeat: Double) {
        let clusterRoutes = ClusterRoutes(clusters: clusters)
        let jobRoutes = JobRoutes(jobs: jobs, metrics: metrics, heartbeat: heartbeat)
        let submissions = JobSubmissionRoutes(jobs: jobs)
        let meta = MetaRoutes(clusters: clusters, jobs: jobs, metrics: metrics)

        router.add("GET", "/healthz", route(meta.health))
        router.add("GET", "/openapi.yaml", route(meta.spec))
        router.add("GET", "/metrics", route(meta.metrics))

        router.add("POST", "/clusters", route(clusterRoutes.register))
        router.add("GET", "/clusters", route(clusterRoutes.list))
        router.add("GET", "/clusters/{id}", route(clusterRoutes.get))
        router.add("DELETE", "/clusters/{id}", route(clusterRoutes.delete))
        router.add("GET", "/clusters/{id}/topology", route(clusterRoutes.topology))
        router.add("POST", "/clusters/{id}/snapshots", route(clusterRoutes.takeSnapshot))
        router.add("GET", "/clusters/{id}/snapshots", route(clusterRoutes.listSnapshots))
        router.add("GET", "/clusters/{id}/snapshots/{sid}", route(clusterRoutes.getSnapshot))

        for kind in JobKinds.names {
            router.add("POST", "/clusters/{id}/\(kind)", route(submissions.submit(kind)))
        }

        router.add("GET", "/jobs", route(jobRoutes.list))
        router.add("GET", "/jobs/{id}", route(jobRoutes.get))
        router.add("GET", "/jobs/{id}/events", route(jobRoutes.events))
        router.add("POST", "/jobs/{id}/cancel", route(jobRoutes.cancel))
    }
}
