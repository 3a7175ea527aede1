import HTTPServer
import Jobs
import Service
import Store

/// Registration, live topology and snapshots.
struct ClusterRoutes: Sendable {
    let clusters: ClusterService

    func register(_ request: HTTPRequest, _ parameters: RouteParameters, _ principal: Principal) throws -> HTTPResponse {
        let record = try clusters.register(try RequestBody.object(request), actor: principal.name)
        var response = try JSONCoding.response(201, ClusterView(record))
        response.headers.set("Location", "/clusters/\(record.id)")
        return response
    }

    func list(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try JSONCoding.response(200, Page(items: try clusters.clusters().map(ClusterView.init), nextCursor: nil))
    }

    func get(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try JSONCoding.response(200, ClusterView(try clusters.cluster(parameters["id"] ?? "")))
    }

    func delete(_ request: HTTPRequest, _ parameters: RouteParameters, _ principal: Principal) throws -> HTTPResponse {
        try clusters.delete(parameters["id"] ?? "", actor: principal.name)
        return HTTPResponse(status: 204)
    }

    /// Who registered and deleted clusters and cancelled jobs, newest first; `?cluster_id=` narrows it.
    func audit(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let query = QueryParameters(request: request)
        let limit = try query.int("limit", in: 1...500) ?? 50
        let entries = try clusters.auditLog(clusterId: try query.clusterId("cluster_id"), before: try query.cursor(), limit: limit)
        let next = entries.count == limit ? entries.last.map { String($0.id) } : nil
        return try JSONCoding.response(200, Page(items: entries.map(AuditEntryView.init), nextCursor: next))
    }

    /// The live topology, with its `ETag` (node ids, roles, slot owners, config epochs): a job sent with it as
    /// `If-Match` runs only on this cluster state.
    func topology(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let document = try clusters.topology(parameters["id"] ?? "")
        var response = try JSONCoding.response(200, document)
        response.headers.set("ETag", "\"\(document.etag)\"")
        return response
    }

    func info(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let (clusterId, observedAt, summary) = try clusters.info(parameters["id"] ?? "")
        return try JSONCoding.response(200, ClusterInfoView(clusterId: clusterId, observedAt: observedAt, summary: summary))
    }

    func takeSnapshot(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let id = parameters["id"] ?? ""
        _ = try clusters.cluster(id)
        guard try RequestBody.object(request).isEmpty else { throw HTTPError(400, "this endpoint takes no fields") }
        let snapshot = try clusters.takeSnapshot(id)
        var response = try JSONCoding.response(201, SnapshotView(snapshot, includeTopology: true))
        response.headers.set("Location", "/clusters/\(snapshot.clusterId)/snapshots/\(snapshot.id)")
        return response
    }

    func listSnapshots(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let query = QueryParameters(request: request)
        let limit = try query.int("limit", in: 1...500) ?? 50
        let snapshots = try clusters.snapshots(parameters["id"] ?? "", before: try query.cursor(), limit: limit)
        let next = snapshots.count == limit ? snapshots.last.map { String($0.id) } : nil
        return try JSONCoding.response(200, Page(items: snapshots.map { SnapshotView($0, includeTopology: false) }, nextCursor: next))
    }

    func listBackups(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try JSONCoding.response(200, BackupsPage(items: try clusters.backups(parameters["id"] ?? "")))
    }

    func getBackup(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try JSONCoding.response(200, try clusters.backup(parameters["id"] ?? "", backupId: parameters["bid"] ?? ""))
    }

    func getSnapshot(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let id = parameters["id"] ?? ""
        guard let sid = parameters["sid"].flatMap(QueryParameters.positiveId) else {
            _ = try clusters.cluster(id)
            throw HTTPError(404, "cluster '\(id)' has no snapshot '\(parameters["sid"] ?? "")'")
        }
        return try JSONCoding.response(200, SnapshotView(try clusters.snapshot(id, snapshotId: sid), includeTopology: true))
    }
}

/// Every backup of a cluster, newest first (a cluster keeps few: retention prunes them).
struct BackupsPage: Encodable {
    var items: [BackupListing]
}
