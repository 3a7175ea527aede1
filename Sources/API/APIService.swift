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

    /// `heartbeat` is the seconds between comment lines on an idle event stream. `access` decides who may call
    /// what; by default (no tokens file) everyone may call everything, as `anonymous`. `backups` is where backup
    /// jobs write and the backups routes read (nil: backup jobs are refused, and no backup is listed).
    public init(store: Store, settings: ConnectionSettings = ConnectionSettings(), access: AccessControl = AccessControl(tokens: nil),
                backups: BackupDirectory? = nil, maxQueuedJobs: Int = JobService.defaultMaxQueuedJobs, gate: RequestGate = RequestGate(),
                heartbeat: Double = 15, log: @escaping @Sendable (String) -> Void) {
        self.log = log
        self.gate = gate
        clusters = ClusterService(store: store, settings: settings, backups: backups)
        var router = Router(log: log)
        APIService.addRoutes(to: &router, routes: Routes(access: access, clusters: clusters,
                                                          jobs: JobService(store: store, settings: settings, backups: backups,
                                                                           maxQueuedJobs: maxQueuedJobs), metrics: metrics,
                                                          heartbeat: heartbeat))
        self.router = router
        metrics.jobs.start(store.changes)
    }

    let clusters: ClusterService
    let gate: RequestGate

    /// Reads every registered cluster's topology for the /metrics gauges now and then every `interval` seconds, on a
    /// background thread, until `stopClusterGauges`.
    public func startClusterGauges(interval: Double) {
        metrics.clusters.start(clusters: clusters, interval: interval)
    }

    public func stopClusterGauges() {
        metrics.clusters.stop()
    }

    /// The server's handler: the router, counted and timed for /metrics (a parked response counts when it is
    /// answered and is not timed).
    public var handler: HTTPHandler {
        let router = self.router
        let metrics = self.metrics
        let gate = self.gate
        return { request in
            if let refusal = gate.refusal(request) {
                metrics.record(method: request.method, status: refusal.status)
                return .problem(refusal)
            }
            let start = ContinuousClock.now
            var pattern: String?
            let response = router.handle(request, matched: &pattern)
            if !response.isDeferred {
                metrics.record(method: request.method, status: response.status)
                metrics.recordLatency((ContinuousClock.now - start) / .seconds(1), route: pattern, method: request.method)
            }
            return response
        }
    }

    /// Everything a route needs, and the guard every route but /healthz passes first.
    struct Routes {
        let access: AccessControl
        let clusters: ClusterService
        let jobs: JobService
        let metrics: Metrics
        let heartbeat: Double

        /// Wraps a route so it runs only for a principal with at least `role` (401/403 otherwise), and service errors
        /// become problem+json with their status.
        func route(_ role: Role,
                   _ body: @escaping @Sendable (HTTPRequest, RouteParameters, Principal) throws -> HTTPResponse) -> Router.Handler {
            let access = self.access
            return { request, parameters in
                do {
                    return try body(request, parameters, try access.authorize(request, needs: role))
                } catch let error as ServiceError {
                    return Problem.response(error)
                }
            }
        }

        func route(_ role: Role, _ body: @escaping @Sendable (HTTPRequest, RouteParameters) throws -> HTTPResponse) -> Router.Handler {
            route(role) { request, parameters, _ in try body(request, parameters) }
        }

        /// Open to all: /healthz, and the page (which holds no data; it asks for a token to read any).
        func open(_ body: @escaping @Sendable (HTTPRequest, RouteParameters) throws -> HTTPResponse) -> Router.Handler {
            return { request, parameters in
                do {
                    return try body(request, parameters)
                } catch let error as ServiceError {
                    return Problem.response(error)
                }
            }
        }
    }

    private static func addRoutes(to router: inout Router, routes: Routes) {
        let clusterRoutes = ClusterRoutes(clusters: routes.clusters)
        let jobRoutes = JobRoutes(jobs: routes.jobs, metrics: routes.metrics, heartbeat: routes.heartbeat, access: routes.access)
        let submissions = JobSubmissionRoutes(jobs: routes.jobs)
        let meta = MetaRoutes(clusters: routes.clusters, jobs: routes.jobs, metrics: routes.metrics)

        router.add("GET", "/healthz", routes.open(meta.health))
        router.add("GET", "/", routes.open(meta.page))
        router.add("GET", "/openapi.yaml", routes.route(.read, meta.spec))
        router.add("GET", "/metrics", routes.route(.read, meta.metrics))
        router.add("GET", "/audit", routes.route(.read, clusterRoutes.audit))

        router.add("POST", "/clusters", routes.route(.admin, clusterRoutes.register))
        router.add("GET", "/clusters", routes.route(.read, clusterRoutes.list))
        router.add("GET", "/clusters/{id}", routes.route(.read, clusterRoutes.get))
        router.add("DELETE", "/clusters/{id}", routes.route(.admin, clusterRoutes.delete))
        router.add("GET", "/clusters/{id}/topology", routes.route(.read, clusterRoutes.topology))
        router.add("GET", "/clusters/{id}/info", routes.route(.read, clusterRoutes.info))
        router.add("POST", "/clusters/{id}/snapshots", routes.route(.operator, clusterRoutes.takeSnapshot))
        router.add("GET", "/clusters/{id}/snapshots", routes.route(.read, clusterRoutes.listSnapshots))
        router.add("GET", "/clusters/{id}/snapshots/{sid}", routes.route(.read, clusterRoutes.getSnapshot))
        router.add("GET", "/clusters/{id}/backups", routes.route(.read, clusterRoutes.listBackups))
        router.add("GET", "/clusters/{id}/backups/{bid}", routes.route(.read, clusterRoutes.getBackup))

        for kind in JobKinds.all {
            router.add("POST", "/clusters/{id}/\(kind.name)", routes.route(kind.needsAdmin ? .admin : .operator, submissions.submit(kind.name)))
        }

        router.add("GET", "/jobs", routes.route(.read, jobRoutes.list))
        router.add("GET", "/jobs/{id}", routes.route(.read, jobRoutes.get))
        router.add("GET", "/jobs/{id}/events", routes.route(.read, jobRoutes.events))
        router.add("POST", "/jobs/{id}/cancel", routes.route(.operator, jobRoutes.cancel))
    }
}
