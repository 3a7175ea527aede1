import ClusterOps
import HTTPServer
import Jobs
import Store

/// `POST /clusters/{id}/<operation>`: validate, plan against the live topology, then queue (202) or, for a
/// dry run, answer the plan (200) and change nothing.
struct JobSubmissionRoutes: Sendable {
    let clusters: ClusterRoutes
    let store: Store
    let worker: JobWorker

    struct DryRun: Encodable {
        var dryRun = true
        var type: String
        var params: JobParams
        var plan: JobPlan
    }

    func submit(_ type: JobType) -> @Sendable (HTTPRequest, RouteParameters) throws -> HTTPResponse {
        return { request, parameters in
            let cluster = try clusters.cluster(parameters)
            let (params, dryRun) = try JobRequestParser.parse(type, request)
            let pending = try store.jobs(JobFilter(clusterId: cluster.id, status: .queued, limit: 1)).first
                ?? store.jobs(JobFilter(clusterId: cluster.id, status: .running, limit: 1)).first
            var planText: String?
            // Behind another job the cluster will have changed by the time this one runs (a reshard queued after an
            // add-node names a node that does not exist yet): the worker plans it when it starts.
            if dryRun || pending == nil {
                let plan = try JobPlanner.plan(params, topology: clusters.readTopology(cluster), seeds: cluster.seeds)
                if dryRun {
                    return try JSONCoding.response(200, DryRun(type: type.rawValue, params: params, plan: plan))
                }
                planText = try JSONText.string(plan)
            }
            let job = try store.insertJob(clusterId: cluster.id, type: type.rawValue, params: try JSONText.string(params),
                                          plan: planText, actor: "anonymous")
            worker.wake()
            var response = try JSONCoding.response(202, JobView(job))
            response.headers.set("Location", "/jobs/\(job.id)")
            return response
        }
    }
}
