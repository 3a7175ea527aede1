import HTTPServer
import Jobs
import Store

/// The audit trail: job list, one job, its events.
struct JobRoutes: Sendable {
    let store: Store
    let worker: JobWorker

    static let types = JobType.allCases.map(\.rawValue)

    func list(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let query = QueryParameters(request: request)
        var filter = JobFilter(limit: try query.int("limit", in: 1...500) ?? 50)
        filter.clusterId = query.string("cluster_id")
        if let status = query.string("status") {
            guard let value = JobStatus(rawValue: status) else {
                throw HTTPError(400, "query parameter 'status' must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = value
        }
        if let type = query.string("type") {
            guard JobRoutes.types.contains(type) else {
                throw HTTPError(400, "query parameter 'type' must be one of \(JobRoutes.types.joined(separator: ", "))")
            }
            filter.type = type
        }
        filter.since = try query.timestamp("since")
        filter.until = try query.timestamp("until")
        filter.before = try query.cursor()
        let jobs = try store.jobs(filter)
        let next = jobs.count == filter.limit ? jobs.last.map { String($0.id) } : nil
        return try JSONCoding.response(200, Page(items: jobs.map(JobView.init), nextCursor: next))
    }

    /// `?wait=SECONDS` holds the request until the job ends or the wait runs out (at most 300 s).
    func get(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let job = try job(parameters)
        guard let wait = try QueryParameters(request: request).number("wait", in: 0...300), wait > 0, !job.status.isFinished else {
            return try JSONCoding.response(200, JobView(job))
        }
        return try JSONCoding.response(200, JobView(worker.wait(forJob: job.id, timeout: wait) ?? job))
    }

    /// A queued job is cancelled at once (200); a running one stops at its next safe point (202).
    func cancel(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let job = try job(parameters)
        guard !job.status.isFinished else {
            throw HTTPError(409, "job \(job.id) already ended (\(job.status.rawValue))")
        }
        guard let updated = try store.requestCancel(jobId: job.id) else { throw HTTPError(404, "no job '\(job.id)'") }
        worker.wake()
        return try JSONCoding.response(updated.status == .cancelled ? 200 : 202, JobView(updated))
    }

    func events(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let job = try job(parameters)
        return try JSONCoding.response(200, Page(items: try store.events(jobId: job.id).map(JobEventView.init), nextCursor: nil))
    }

    func job(_ parameters: RouteParameters) throws -> JobRecord {
        guard let id = parameters["id"].flatMap({ Int64($0) }), id > 0, let job = try store.job(id) else {
            throw HTTPError(404, "no job '\(parameters["id"] ?? "")'")
        }
        return job
    }
}
