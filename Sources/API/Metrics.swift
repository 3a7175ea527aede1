import Foundation

/// Request counters for `GET /metrics`; the lock guards `requests`. Every label value comes from a fixed set, so no
/// client can grow the number of series: the method is one of `knownMethods` or "other" (the request line's method
/// is whatever the client sent), and the status is one this server answers with (100-599, else "other").
final class Metrics: @unchecked Sendable {
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    private var requests: [String: Int] = [:]
    private let lock = NSLock()
    /// Answer time by route template (never the raw path) and method; parked waits and streams are not timed.
    let latency = Histogram(name: "rcm_http_request_duration_seconds",
                            help: "Time to answer a request, by route template and method (long polls and event streams excluded).",
                            buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
    let jobs = JobMetrics()
    let clusters = ClusterHealthMetrics()

    /// `route` is the matched route's pattern, or nil when nothing matched ("unmatched").
    func recordLatency(_ seconds: Double, route: String?, method: String) {
        latency.observe(seconds, labels: "route=\"\(labelValue(route ?? "unmatched"))\",method=\"\(Self.methodLabel(method))\"")
    }

    func record(method: String, status: Int) {
        let key = "method=\"\(Self.methodLabel(method))\",status=\"\(Self.statusLabel(status))\""
        lock.lock()
        requests[key, default: 0] += 1
        lock.unlock()
    }

    func requestLines() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return requests.keys.sorted().map { "rcm_http_requests_total{\($0)} \(requests[$0]!)" }
    }

    /// How many series `requestLines` has (for tests).
    var seriesCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return requests.count
    }

    /// Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET and counts as "other".
    static func methodLabel(_ method: String) -> String {
        knownMethods.contains(method) ? method : "other"
    }

    static func statusLabel(_ status: Int) -> String {
        (100...599).contains(status) ? String(status) : "other"
    }
}
