import Jobs
import ClusterModel
import Store

/// A registered cluster as the API shows it: never the password, only whether there is one. TLS paths are shown
/// (they are not secret; no file's contents ever are).
struct ClusterView: Encodable {
    var id: String
    var seeds: [String]
    var username: String?
    var hasPassword: Bool
    var tls: ClusterTLS?
    /// `{"nodes","rules"}` when some nodes are dialled elsewhere than they announce.
    var addressMap: AddressMap?
    var createdBy: String
    var createdAt: String
    var updatedAt: String

    init(_ record: ClusterRecord) {
        id = record.id
        seeds = record.seeds
        username = record.username
        hasPassword = record.password != nil
        tls = record.tls
        addressMap = record.addressMap
        createdBy = record.createdBy
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }
}

/// `GET /clusters/{id}/info`: redis-cli --cluster info's summary.
struct ClusterInfoView: Encodable {
    var clusterId: String
    var observedAt: String
    var masters: [ClusterInfoSummary.Master]
    var keys: Int
    var slotsAssigned: Int
    var keysPerSlot: Double
    var message: String

    init(clusterId: String, observedAt: String, summary: ClusterInfoSummary) {
        self.clusterId = clusterId
        self.observedAt = observedAt
        masters = summary.masters
        keys = summary.keys
        slotsAssigned = summary.slotsAssigned
        keysPerSlot = summary.keysPerSlot
        message = summary.message
    }
}

struct AuditEntryView: Encodable {
    var id: Int64
    var at: String
    var actor: String
    var action: String
    var clusterId: String
    var jobId: Int64?

    init(_ entry: AuditEntry) {
        id = entry.id
        at = entry.at
        actor = entry.actor
        action = entry.action
        clusterId = entry.clusterId
        jobId = entry.jobId
    }

    enum CodingKeys: String, CodingKey {
        case id, at, actor, action, clusterId, jobId
    }

    // Every field is present; job_id is null for acts on a cluster.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(at, forKey: .at)
        try container.encode(actor, forKey: .actor)
        try container.encode(action, forKey: .action)
        try container.encode(clusterId, forKey: .clusterId)
        try container.encode(jobId, forKey: .jobId)
    }
}

struct SnapshotView: Encodable {
    var id: Int64
    var clusterId: String
    var createdAt: String
    var reason: String
    var jobId: Int64?
    var topology: JSONValue?

    init(_ record: SnapshotRecord, includeTopology: Bool) {
        id = record.id
        clusterId = record.clusterId
        createdAt = record.createdAt
        reason = record.reason
        jobId = record.jobId
        topology = includeTopology ? JSONCoding.value(ofStoredText: record.topology) : nil
    }
}

struct JobView: Encodable {
    struct Progress: Encodable {
        var step: String?
        var slotsTotal: Int
        var slotsDone: Int
        var keysMoved: Int
        var keysTotal: Int?
        var bytesDone: Int64?
        var bytesTotal: Int64?
    }

    struct Failure: Encodable {
        var code: String
        var message: String
    }

    var id: Int64
    var clusterId: String
    var type: String
    var status: String
    var params: JSONValue
    var plan: JSONValue
    var progress: Progress
    var error: Failure?
    var cancelRequested: Bool
    var actor: String
    var createdAt: String
    var startedAt: String?
    var finishedAt: String?
    var snapshotBefore: Int64?
    var snapshotAfter: Int64?
    var result: JSONValue
    var verification: JSONValue

    /// `showResult` false (a `read` principal): the job's `result` is null; what a command answered (a `call`'s
    /// replies, a key's value) is for operators and admins.
    init(_ job: JobRecord, showResult: Bool = true) {
        id = job.id
        clusterId = job.clusterId
        type = job.type
        status = job.status.rawValue
        params = JSONCoding.value(ofStoredText: job.params)
        plan = JSONCoding.value(ofStoredText: job.plan)
        progress = Progress(step: job.step, slotsTotal: job.slotsTotal, slotsDone: job.slotsDone, keysMoved: job.keysMoved,
                            keysTotal: job.keysTotal, bytesDone: job.bytesDone, bytesTotal: job.bytesTotal)
        error = job.errorCode.map { Failure(code: $0, message: job.errorMessage ?? "") }
        cancelRequested = job.cancelRequested
        actor = job.actor
        createdAt = job.createdAt
        startedAt = job.startedAt
        finishedAt = job.finishedAt
        snapshotBefore = job.snapshotBefore
        snapshotAfter = job.snapshotAfter
        result = showResult ? JSONCoding.value(ofStoredText: job.result) : .null
        verification = JSONCoding.value(ofStoredText: job.verification)
    }

    enum CodingKeys: String, CodingKey {
        case id, clusterId, type, status, params, plan, progress, error, cancelRequested, actor, createdAt, startedAt,
             finishedAt, snapshotBefore, snapshotAfter, result, verification
    }

    // Every field is present, null when unset, so the job reads the same at every stage.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(clusterId, forKey: .clusterId)
        try container.encode(type, forKey: .type)
        try container.encode(status, forKey: .status)
        try container.encode(params, forKey: .params)
        try container.encode(plan, forKey: .plan)
        try container.encode(progress, forKey: .progress)
        try container.encode(error, forKey: .error)
        try container.encode(cancelRequested, forKey: .cancelRequested)
        try container.encode(actor, forKey: .actor)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(snapshotBefore, forKey: .snapshotBefore)
        try container.encode(snapshotAfter, forKey: .snapshotAfter)
        try container.encode(result, forKey: .result)
        try container.encode(verification, forKey: .verification)
    }
}

struct JobEventView: Encodable {
    var id: Int64
    var at: String
    var level: String
    var message: String
    var node: String?
    var data: JSONValue?

    init(_ event: JobEvent) {
        id = event.id
        at = event.at
        level = event.level
        message = event.message
        node = event.node
        data = event.data.map { JSONCoding.value(ofStoredText: $0) }
    }
}

/// A page of a list: `next_cursor` is null on the last page.
struct Page<Item: Encodable>: Encodable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey { case items, nextCursor }

    // `next_cursor: null` is spelled out: clients loop until they see it.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
