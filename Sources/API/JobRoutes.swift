import Foundation
import HTTPServer
import Jobs
import Service
import Store

/// The audit trail (job list, one job, its events), long-polls and live event streams, and cancel.
struct JobRoutes: Sendable {
    let jobs: JobService
    let metrics: Metrics
    let heartbeat: Double
    /// Open streams end when the token they were opened with is revoked (SIGHUP).
    let access: AccessControl

    func list(_ request: HTTPRequest, _ parameters: RouteParameters, _ principal: Principal) throws -> HTTPResponse {
        let query = QueryParameters(request: request)
        var filter = JobFilter(limit: try query.int("limit", in: 1...500) ?? 50)
        filter.clusterId = try query.clusterId("cluster_id")
        if let status = query.string("status") {
            guard let value = JobStatus(rawValue: status) else {
                throw HTTPError(400, "query parameter 'status' must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = value
        }
        if let type = query.string("type") {
            guard jobs.kindNames.contains(type) else {
                throw HTTPError(400, "query parameter 'type' must be one of \(jobs.kindNames.joined(separator: ", "))")
            }
            filter.type = type
        }
        filter.since = try query.timestamp("since")
        filter.until = try query.timestamp("until")
        filter.before = try query.cursor()
        let list = try jobs.jobs(filter)
        let next = list.count == filter.limit ? list.last.map { String($0.id) } : nil
        let shown = Self.showsResults(principal)
        return try JSONCoding.response(200, Page(items: list.map { JobView($0, showResult: shown) }, nextCursor: next))
    }

    /// `?wait=SECONDS` (at most 300) parks the request until the job ends or the wait runs out; no thread is held.
    func get(_ request: HTTPRequest, _ parameters: RouteParameters, _ principal: Principal) throws -> HTTPResponse {
        let job = try jobs.job(try jobId(parameters))
        let shown = Self.showsResults(principal)
        guard let wait = try QueryParameters(request: request).number("wait", in: 0...300), wait > 0, !job.status.isFinished else {
            return try JSONCoding.response(200, JobView(job, showResult: shown))
        }
        let jobs = self.jobs
        let metrics = self.metrics
        return .deferred { responder in
            JobWait(jobs: jobs, jobId: job.id, responder: responder, metrics: metrics, showResult: shown).start(timeout: wait)
        }
    }

    /// Results (a `call`'s replies) are for operators and admins, not for `read` tokens.
    static func showsResults(_ principal: Principal) -> Bool { principal.role >= .operator }

    /// A queued job is cancelled at once (200); a running one stops at its next safe point (202).
    func cancel(_ request: HTTPRequest, _ parameters: RouteParameters, _ principal: Principal) throws -> HTTPResponse {
        let updated = try jobs.cancel(jobId: try jobId(parameters), actor: principal.name)
        return try JSONCoding.response(updated.status == .cancelled ? 200 : 202, JobView(updated))
    }

    /// The event log as JSON, or with `Accept: text/event-stream` a live Server-Sent Events stream until the job ends.
    func events(_ request: HTTPRequest, _ parameters: RouteParameters, _ principal: Principal) throws -> HTTPResponse {
        let job = try jobs.job(try jobId(parameters))
        let lastEventId = try Self.lastEventId(request)
        guard request.headers["Accept"]?.lowercased().contains("text/event-stream") == true else {
            return try JSONCoding.response(200, Page(items: try jobs.events(jobId: job.id).map(JobEventView.init), nextCursor: nil))
        }
        let jobs = self.jobs
        let metrics = self.metrics
        let heartbeat = self.heartbeat
        let shown = Self.showsResults(principal)
        let access = self.access
        return .deferred { responder in
            JobEventStream.start(jobs: jobs, jobId: job.id, after: lastEventId, responder: responder, heartbeat: heartbeat,
                                 metrics: metrics, showResult: shown,
                                 revoked: { access.stillAllows(request, role: .read) == false }, access: access)
        }
    }

    func jobId(_ parameters: RouteParameters) throws -> Int64 {
        guard let id = parameters["id"].flatMap(QueryParameters.positiveId) else {
            throw HTTPError(404, "no job '\(parameters["id"] ?? "")'")
        }
        return id
    }

    /// `^[0-9]{1,18}$` (checked whether or not the answer is a stream, so a bad one is never silently ignored).
    static func lastEventId(_ request: HTTPRequest) throws(HTTPError) -> Int64 {
        guard let text = request.headers["Last-Event-ID"] else { return 0 }
        let bytes = text.utf8
        guard (1...18).contains(bytes.count), bytes.allSatisfy({ (0x30...0x39).contains($0) }), let id = Int64(text) else {
            throw HTTPError(400, "header 'Last-Event-ID' must be an event id this API gave out")
        }
        return id
    }
}
