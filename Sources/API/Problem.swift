import HTTPServer
import Jobs
import Service

/// The one place errors become problem+json (RFC 9457). A service error carries its status; a 422 also carries
/// its machine-readable `code` (e.g. `shard_down`) as an extension member; a 503 says when to retry.
enum Problem {
    static func response(_ error: ServiceError) -> HTTPResponse {
        switch error {
        case .invalid(let message): return .problem(HTTPError(400, message))
        case .notFound(let message): return .problem(HTTPError(404, message))
        case .conflict(let message): return .problem(HTTPError(409, message))
        case .unavailable(let message):
            return .problem(HTTPError(503, message, headers: HTTPHeaders([("Retry-After", "5")])))
        case .impossible(let code, let message):
            return coded(422, "Unprocessable Content", message, code: code)
        case .preflightFailed(let message, let checks):
            return coded(422, "Unprocessable Content", message, code: "preflight_failed",
                         extra: ["preflight": JSONCoding.value(ofStoredText: checks)])
        case .queueFull(let message, let retryAfter):
            var response = coded(429, "Too Many Requests", message, code: "queue_full")
            response.headers.set("Retry-After", "\(retryAfter)")
            return response
        case .preconditionFailed(let message, let etag):
            var response = coded(412, "Precondition Failed", message, code: "topology_changed")
            response.headers.set("ETag", "\"\(etag)\"")
            return response
        }
    }

    /// A problem with a machine-readable `code` and any extension members.
    private static func coded(_ status: Int, _ title: String, _ message: String, code: String,
                              extra: [String: JSONValue] = [:]) -> HTTPResponse {
        var body: [String: JSONValue] = [
            "type": .string("about:blank"), "title": .string(title), "status": .int(Int64(status)),
            "detail": .string(message), "code": .string(code),
        ]
        body.merge(extra) { first, _ in first }
        var response = HTTPResponse(status: status, body: (try? JSONText.encode(body)) ?? [])
        response.headers.set("Content-Type", "application/problem+json")
        return response
    }
}
