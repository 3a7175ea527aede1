import HTTPServer
import Jobs
import Service

/// `POST /clusters/{id}/<kind>`: queued (202 with Location) or, for a dry run, the plan (200).
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
            switch try jobs.submit(kind: kind, clusterId: parameters["id"] ?? "", body: body, actor: principal.name) {
            case .dryRun(let dry):
                return try JSONCoding.response(200, DryRunView(type: dry.type, params: JSONCoding.value(ofStoredText: dry.params),
                                                               plan: JSONCoding.value(ofStoredText: dry.plan)))
            case .queued(let job):
                var response = try JSONCoding.response(202, JobView(job))
                response.headers.set("Location", "/jobs/\(job.id)")
                return response
            }
        }
    }
}
