import Foundation

/// Request counters for `GET /metrics`; the lock guards `requests`.
final class Metrics: @unchecked Sendable {
    private var requests: [String: Int] = [:]
    private let lock = NSLock()

    func record(method: String, status: Int) {
        let key = "method=\"\(method)\",status=\"\(status)\""
        lock.lock()
        requests[key, default: 0] += 1
        lock.unlock()
    }

    func requestLines() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return requests.keys.sorted().map { "rcm_http_requests_total{\($0)} \(requests[$0]!)" }
    }
}
