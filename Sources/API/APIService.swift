import ClusterOps
import Foundation
import HTTPServer
import Jobs
import RESP
import Store

/// Maps HTTP routes to the registry, live topology reads, snapshots and jobs.
public final class APIService: Sendable {
    let store: Store
    let worker: JobWorker
    let settings: ConnectionSettings
    let metrics = Metrics()
    let log: @Sendable (String) -> Void
    public let router: Router

    public init(store: Store, worker: JobWorker, settings: ConnectionSettings = ConnectionSettings(),
                log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.worker = worker
        self.settings = settings
        self.log = log
        var router = Router(log: log)
        APIService.addRoutes(to: &router, store: store, worker: worker, settings: settings, metrics: metrics)
        self.router = router
    }

    /// The server's handler: the router, counted for /metrics.
    public var handler: HTTPHandler {
        let router = self.router
        let metrics = self.metrics
        return { request in
            let response = router.handle(request)
            metrics.record(method: request.method, status: response.status)
            return response
        }
    }

    /// Wraps a route so module errors become problem+json with the right status.
    static func route(_ body: @escaping @Sendable (HTTPRequest, RouteParameters) throws -> HTTPResponse) -> Router.Handler {
        return { request, parameters in
            do {
                return try body(request, parameters)
            } catch {
                throw ErrorMapping.http(error)
            }
        }
    }

    private static func addRoutes(to router: inout Router, store: Store, worker: JobWorker, settings: ConnectionSettings,
                                  metrics: Metrics) {
        let clusters = ClusterRoutes(store: store, settings: settings)
        let jobs = JobRoutes(store: store, worker: worker)
        let submissions = JobSubmissionRoutes(clusters: clusters, store: store, worker: worker)
        let meta = MetaRoutes(store: store, metrics: metrics)

        router.add("GET", "/healthz", route(meta.health))
        router.add("GET", "/openapi.yaml", route(meta.spec))
        router.add("GET", "/metrics", route(meta.metrics))

        router.add("POST", "/clusters", route(clusters.register))
        router.add("GET", "/clusters", route(clusters.list))
        router.add("GET", "/clusters/{id}", route(clusters.get))
        router.add("DELETE", "/clusters/{id}", route(clusters.delete))
        router.add("GET", "/clusters/{id}/topology", route(clusters.topology))
        router.add("POST", "/clusters/{id}/snapshots", route(clusters.takeSnapshot))
        router.add("GET", "/clusters/{id}/snapshots", route(clusters.listSnapshots))
        router.add("GET", "/clusters/{id}/snapshots/{sid}", route(clusters.getSnapshot))

        for type in JobType.allCases {
            router.add("POST", "/clusters/{id}/\(type.rawValue)", route(submissions.submit(type)))
        }

        router.add("GET", "/jobs", route(jobs.list))
        router.add("GET", "/jobs/{id}", route(jobs.get))
        router.add("GET", "/jobs/{id}/events", route(jobs.events))
        router.add("POST", "/jobs/{id}/cancel", route(jobs.cancel))
    }
}
