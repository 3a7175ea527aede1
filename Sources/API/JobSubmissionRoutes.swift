import Foundation
import COpenSSL
import HTTPServer
import Jobs
import Service
import Store

/// `POST /clusters/{id}/<kind>`: queued (202 with Location), the job of an earlier request with the same
/// `Idempotency-Key` (200 with Location), or, for a dry run, the plan (200).
struct JobSubmissionRoutes: Sendable {
    let jobs: JobService

    struct DryRunView: Encodable {
        var dryRun = true
        var type: String
        var params: JSONValue
        var plan: JSONValue
    }

    func submit(_ kind: String) -> @Sendable (HTTPRequest, RouteParameters, Principal) throws -> HTTPResponse {
        return { request, parameters, principal in
            let body = try RequestBody.object(request)
            let clusterId = parameters["id"] ?? ""
            let idempotency = try Self.idempotencyKey(request, owner: principal.name, endpoint: "\(kind) \(clusterId)")
            switch try jobs.submit(kind: kind, clusterId: clusterId, body: body, actor: principal.name, idempotency: idempotency) {
            case .dryRun(let dry):
                return try JSONCoding.response(200, DryRunView(type: dry.type, params: JSONCoding.value(ofStoredText: dry.params),
                                                               plan: JSONCoding.value(ofStoredText: dry.plan)))
            case .queued(let job):
                var response = try JSONCoding.response(202, JobView(job))
                response.headers.set("Location", "/jobs/\(job.id)")
                return response
            case .existing(let job):
                var response = try JSONCoding.response(200, JobView(job))
                response.headers.set("Location", "/jobs/\(job.id)")
                return response
            }
        }
    }

    /// The request's `Idempotency-Key` (1 to 255 visible ASCII characters), kept per token; what it asked is the
    /// SHA-256 of the endpoint and the body's bytes.
    static func idempotencyKey(_ request: HTTPRequest, owner: String, endpoint: String) throws(HTTPError) -> IdempotencyKey? {
        let values = request.headers.values("Idempotency-Key")
        guard let key = values.first else { return nil }
        guard values.count == 1, (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw HTTPError(400, "header 'Idempotency-Key' must be one value of 1 to 255 visible ASCII characters")
        }
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let bytes = Array((endpoint + "\n").utf8) + request.body
        _ = SHA256(bytes, bytes.count, &digest)
        return IdempotencyKey(owner: owner, key: key, request: digest.map { String(format: "%02x", $0) }.joined())
    }
}
