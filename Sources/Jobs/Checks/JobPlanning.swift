import ClusterModel
import ClusterOps
import Foundation
import Store

/// A plan as it is shown and stored: the kind's plan with the checks made before it (`preflight`) and the
/// topology ETag it was made on (`topology_etag`).
public struct PlannedJob: Sendable {
    public var text: String
    public var summary: String
    public var slotsTotal: Int
    public var preflight: [PreflightCheck]
    public var etag: String
}

/// Planning, one way for the API's answer at submission and the worker's when the job starts: the kind plans
/// against the live topology, then the checks run against what the plan will do.
public enum JobPlanning {
    public static func plan<K: JobKind>(_ kind: K.Type, params: K.Params, options: JobOptions, input: PlanningInput,
                                        session: ClusterSession) throws -> (K.Plan, PlannedJob) {
        let plan = try K.plan(params, on: input)
        let preflight = Preflight(session: session, topology: input.topology,
                                  bigKeyBytes: options.bigKeyBytes ?? JobOptions.defaultBigKeyBytes,
                                  measuredRate: input.measuredRate)
            .run(K.effects(plan, params: params, on: input.topology))
        let etag = TopologyDigest.etag(input.topology)
        guard case .object(var fields) = try JSONDecoder().decode(JSONValue.self, from: Data(JSONText.encode(plan))) else {
            throw ClusterOpsError.failed("a \(K.name) plan is not a JSON object")
        }
        fields["preflight"] = try JSONDecoder().decode(JSONValue.self, from: Data(JSONText.encode(preflight)))
        fields["topology_etag"] = .string(etag)
        return (plan, PlannedJob(text: try JSONText.string(JSONValue.object(fields)), summary: plan.summary,
                                 slotsTotal: plan.slotsTotal, preflight: preflight, etag: etag))
    }
}

extension Store {
    /// A lookup of this cluster's last measured move rate by method, for the time check.
    public func measuredRate(clusterId: String) -> @Sendable (String) -> Double? {
        return { [self] method in (try? lastMoveRate(clusterId: clusterId, method: method)) ?? nil }
    }
}
