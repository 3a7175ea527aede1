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
        var topologyEtag: String
    }

    func submit(_ kind: String) -> @Sendable (HTTPRequest, RouteParameters, Principal) throws -> HTTPResponse {
        return { request, parameters, principal in
            let body = try RequestBody.object(request)
            let clusterId = parameters["id"] ?? ""
            let idempotency = try Self.idempotencyKey(request, owner: principal.name, endpoint: "\(kind) \(clusterId)")
            let ifMatch = try Self.ifMatch(request)
            switch try jobs.submit(kind: kind, clusterId: clusterId, body: body, actor: principal.name, idempotency: idempotency,
                                   ifMatch: ifMatch) {
            case .dryRun(let dry):
                var response = try JSONCoding.response(200, DryRunView(type: dry.type, params: JSONCoding.value(ofStoredText: dry.params),
                                                                       plan: JSONCoding.value(ofStoredText: dry.plan),
                                                                       topologyEtag: dry.topologyEtag))
                response.headers.set("ETag", "\"\(dry.topologyEtag)\"")
                return response
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

    /// The request's `If-Match`: one header of at most 1 024 visible ASCII characters (a list of tags, or `*`).
    static func ifMatch(_ request: HTTPRequest) throws(HTTPError) -> String? {
        let values = request.headers.values("If-Match")
        guard let value = values.first else { return nil }
        guard values.count == 1, (1...1024).contains(value.utf8.count), value.utf8.allSatisfy({ (0x20...0x7e).contains($0) }),
              value.contains(where: { $0 != " " }) else {
            throw HTTPError(400, "header 'If-Match' must be one value: the \"etag\" of GET /clusters/{id}/topology or a dry run")
        }
        return value
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
