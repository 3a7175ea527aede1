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
            let body: [String: JSONValue] = [
                "type": .string("about:blank"), "title": .string("Unprocessable Content"), "status": .int(422),
                "detail": .string(message), "code": .string(code),
            ]
            var response = HTTPResponse(status: 422, body: (try? JSONText.encode(body)) ?? [])
            response.headers.set("Content-Type", "application/problem+json")
            return response
        }
    }
}
