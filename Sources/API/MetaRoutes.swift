import EmbeddedResources
import HTTPServer
import Service
import Store

struct MetaRoutes: Sendable {
    let clusters: ClusterService
    let jobs: JobService
    let metrics: Metrics

    func health(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        HTTPResponse.json(200, Array(#"{"status":"ok"}"#.utf8))
    }

    /// The live page: self-contained (no asset from anywhere else), it asks for a token itself and sends it only in
    /// the Authorization header of its own API calls.
    func page(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        var response = HTTPResponse.text(200, EmbeddedResources.page, contentType: "text/html; charset=utf-8")
        response.headers.set("Content-Security-Policy",
                             "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        response.headers.set("X-Content-Type-Options", "nosniff")
        response.headers.set("Referrer-Policy", "no-referrer")
        response.headers.set("Cache-Control", "no-store")
        return response
    }

    func spec(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        HTTPResponse.text(200, EmbeddedResources.openAPISpec, contentType: "application/yaml")
    }

    /// Prometheus text exposition: request counts and jobs by status.
    func metrics(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        var lines = ["# HELP rcm_http_requests_total HTTP requests answered, by method and status.",
                     "# TYPE rcm_http_requests_total counter"]
        lines += metrics.requestLines()
        lines += ["# HELP rcm_jobs Jobs by status.", "# TYPE rcm_jobs gauge"]
        let counts = try jobs.countsByStatus()
        for status in JobStatus.allCases {
            lines.append("rcm_jobs{status=\"\(status.rawValue)\"} \(counts[status] ?? 0)")
        }
        let registered = try clusters.clusters().map(\.id)
        lines += ["# HELP rcm_clusters Registered clusters.", "# TYPE rcm_clusters gauge", "rcm_clusters \(registered.count)"]
        lines += metrics.latency.lines()
        lines += metrics.jobs.lines(clusters: registered)
        lines += metrics.clusters.lines()
        return HTTPResponse.text(200, lines.joined(separator: "\n") + "\n", contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
