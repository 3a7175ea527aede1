import ClusterModel
import ClusterOps
import HTTPServer
import Jobs
import RESP
import Store

/// Registration, live topology and snapshots.
struct ClusterRoutes: Sendable {
    let store: Store
    let settings: ConnectionSettings

    static let maxSeeds = 64

    func register(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let body = try RequestBody(request, allowed: ["id", "seeds", "username", "password"])
        let id = try body.requiredString("id")
        guard ClusterRoutes.isValidId(id) else {
            throw HTTPError(400, "field 'id' must match ^[a-z0-9][a-z0-9-]{0,62}$")
        }
        guard let seedTexts = try body.stringArray("seeds"), !seedTexts.isEmpty else {
            throw HTTPError(400, "field 'seeds' must be a non-empty array of \"host:port\"")
        }
        guard seedTexts.count <= ClusterRoutes.maxSeeds else {
            throw HTTPError(400, "field 'seeds' may list at most \(ClusterRoutes.maxSeeds) nodes")
        }
        var seeds: [RedisEndpoint] = []
        for text in seedTexts {
            guard let endpoint = RedisEndpoint(text) else {
                throw HTTPError(400, "seed '\(text)' is not host:port (IPv6 as [addr]:port)")
            }
            if !seeds.contains(endpoint) { seeds.append(endpoint) }
        }
        let username = try body.string("username")
        let password = try body.string("password")
        if username != nil && password == nil {
            throw HTTPError(400, "field 'username' needs 'password'")
        }
        if let username, username.isEmpty || username.count > 256 {
            throw HTTPError(400, "field 'username' must be 1 to 256 characters")
        }
        if let password, password.isEmpty || password.utf8.count > 4096 {
            throw HTTPError(400, "field 'password' must be 1 to 4096 bytes")
        }
        if !settings.allowRemoteNodes, let remote = seeds.first(where: { !$0.isLoopback }) {
            throw HTTPError(422, "seed \(remote) is not a loopback address; start the service with --allow-remote-nodes to manage remote nodes")
        }
        if try store.cluster(id) != nil {
            throw StoreError.clusterExists(id)
        }
        let credentials = password.map { RedisCredentials(username: username, password: $0) }
        try SeedValidator.validate(settings.access(seeds: seeds, credentials: credentials))

        let now = Timestamp.now()
        let record = ClusterRecord(id: id, seeds: seeds.map(\.description), username: username, password: password,
                                   createdAt: now, updatedAt: now)
        try store.insertCluster(record)
        var response = try JSONCoding.response(201, ClusterView(record))
        response.headers.set("Location", "/clusters/\(id)")
        return response
    }

    func list(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try JSONCoding.response(200, Page(items: try store.clusters().map(ClusterView.init), nextCursor: nil))
    }

    func get(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try JSONCoding.response(200, ClusterView(try cluster(parameters)))
    }

    func delete(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try store.deleteCluster(try cluster(parameters).id)
        return HTTPResponse(status: 204)
    }

    func topology(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try JSONCoding.response(200, liveTopology(try cluster(parameters)))
    }

    func takeSnapshot(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let record = try cluster(parameters)
        _ = try RequestBody(request, allowed: [])
        let snapshot = try store.insertSnapshot(clusterId: record.id, reason: "manual", jobId: nil,
                                                topology: try JSONText.string(liveTopology(record)))
        var response = try JSONCoding.response(201, SnapshotView(snapshot, includeTopology: true))
        response.headers.set("Location", "/clusters/\(record.id)/snapshots/\(snapshot.id)")
        return response
    }

    func listSnapshots(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let record = try cluster(parameters)
        let query = QueryParameters(request: request)
        let limit = try query.int("limit", in: 1...500) ?? 50
        let snapshots = try store.snapshots(clusterId: record.id, before: try query.cursor(), limit: limit)
        let next = snapshots.count == limit ? snapshots.last.map { String($0.id) } : nil
        return try JSONCoding.response(200, Page(items: snapshots.map { SnapshotView($0, includeTopology: false) }, nextCursor: next))
    }

    func getSnapshot(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let record = try cluster(parameters)
        guard let sid = parameters["sid"].flatMap({ Int64($0) }),
              let snapshot = try store.snapshot(clusterId: record.id, id: sid) else {
            throw HTTPError(404, "cluster '\(record.id)' has no snapshot '\(parameters["sid"] ?? "")'")
        }
        return try JSONCoding.response(200, SnapshotView(snapshot, includeTopology: true))
    }

    // MARK: - Helpers

    func cluster(_ parameters: RouteParameters) throws -> ClusterRecord {
        let id = parameters["id"] ?? ""
        guard let record = try store.cluster(id) else { throw StoreError.clusterNotFound(id) }
        return record
    }

    func liveTopology(_ record: ClusterRecord) -> TopologyDocument {
        TopologyDocument(clusterId: record.id, observedAt: Timestamp.now(), topology: readTopology(record))
    }

    func readTopology(_ record: ClusterRecord) -> ClusterTopology {
        TopologyReader(access: settings.access(for: record)).read()
    }

    static func isValidId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func allowed(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }
        return allowed(bytes[0]) && bytes.dropFirst().allSatisfy { allowed($0) || $0 == 0x2d }
    }
}
