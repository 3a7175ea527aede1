import ClusterModel
import ClusterOps
import Jobs
import RESP
import Store

/// The registry use cases: register (after checking a seed answers), list, delete, live topology and snapshots.
public final class ClusterService: Sendable {
    let store: Store
    let settings: ConnectionSettings
    let backupDirectory: BackupDirectory?

    public static let maxSeeds = 64

    public init(store: Store, settings: ConnectionSettings, backups: BackupDirectory? = nil) {
        self.store = store
        self.settings = settings
        self.backupDirectory = backups
    }

    /// `{"id","seeds":[...],"username"?,"password"?,"tls"?,"address_map"?}`; the seed is contacted before anything is stored.
    /// `actor` is who registers it: kept on the record and in the audit log.
    public func register(_ body: [String: JSONValue], actor: String = "anonymous") throws -> ClusterRecord {
        try ServiceError.wrap {
            let fields = try RequestFields(body, allowed: ["id", "seeds", "username", "password", "tls", "address_map"])
            let id = try fields.requiredString("id")
            guard ClusterService.isValidId(id) else {
                throw ServiceError.invalid("field 'id' must match ^[a-z0-9][a-z0-9-]{0,62}$")
            }
            guard let seedTexts = try fields.stringArray("seeds"), !seedTexts.isEmpty else {
                throw ServiceError.invalid("field 'seeds' must be a non-empty array of \"host:port\"")
            }
            guard seedTexts.count <= ClusterService.maxSeeds else {
                throw ServiceError.invalid("field 'seeds' may list at most \(ClusterService.maxSeeds) nodes")
            }
            var seeds: [RedisEndpoint] = []
            for text in seedTexts {
                guard let endpoint = RequestFields.address(text) else {
                    throw ServiceError.invalid("seed '\(text)' is not host:port (IPv6 as [addr]:port)")
                }
                if !seeds.contains(endpoint) { seeds.append(endpoint) }
            }
            let username = try fields.string("username")
            let password = try fields.string("password")
            if username != nil && password == nil {
                throw ServiceError.invalid("field 'username' needs 'password'")
            }
            if let username, username.isEmpty || username.unicodeScalars.count > 256 {
                throw ServiceError.invalid("field 'username' must be 1 to 256 characters")
            }
            if let password, password.isEmpty || password.unicodeScalars.count > 4096 {
                throw ServiceError.invalid("field 'password' must be 1 to 4096 characters")
            }
            let tls = try TLSFields.parse(fields)
            let addressMap = try AddressMapFields.parse(fields)
            let access = settings.access(seeds: seeds, credentials: password.map { RedisCredentials(username: username, password: $0) },
                                         tls: tls.map(TLSConfiguration.init), addressMap: addressMap ?? AddressMap())
            if !settings.allowRemoteNodes, let remote = AddressMapFields.remoteTarget(addressMap) {
                throw ServiceError.impossible(code: "remote_node", "address_map dials \(remote), not a loopback address; start the service with --allow-remote-nodes to manage remote nodes")
            }
            if !settings.allowRemoteNodes, let remote = seeds.map(access.dialled).first(where: { !$0.isLoopback }) {
                throw ServiceError.impossible(code: "remote_node", "seed \(remote) is not a loopback address; start the service with --allow-remote-nodes to manage remote nodes")
            }
            if try store.cluster(id) != nil {
                throw StoreError.clusterExists(id)
            }
            try TLSFields.checkFiles(tls)
            try SeedValidator.validate(access)
            let now = Timestamp.now()
            let record = ClusterRecord(id: id, seeds: seeds.map(\.description), username: username, password: password,
                                       tls: tls, addressMap: addressMap, createdBy: actor, createdAt: now, updatedAt: now)
            try store.insertCluster(record)
            return record
        }
    }

    public func clusters() throws -> [ClusterRecord] {
        try ServiceError.wrap { try store.clusters() }
    }

    public func cluster(_ id: String) throws -> ClusterRecord {
        try ServiceError.wrap { try ClusterService.record(id, in: store) }
    }

    /// Refused (409) while a job of the cluster is queued or running; its jobs and snapshots stay for audit.
    public func delete(_ id: String, actor: String = "anonymous") throws {
        try ServiceError.wrap { try store.deleteCluster(try ClusterService.record(id, in: store).id, actor: actor) }
    }

    /// Registrations, deletions and cancels, newest first.
    public func auditLog(clusterId: String?, before: Int64?, limit: Int) throws -> [AuditEntry] {
        try ServiceError.wrap { try store.auditLog(clusterId: clusterId, before: before, limit: limit) }
    }

    public func topology(_ id: String) throws -> TopologyDocument {
        let record = try cluster(id)
        return TopologyDocument(clusterId: record.id, observedAt: Timestamp.now(),
                                topology: TopologyReader(access: settings.access(for: record)).read())
    }

    /// What `redis-cli --cluster info` prints: keys, slots and replicas per master, keys per slot on average.
    public func info(_ id: String) throws -> (clusterId: String, observedAt: String, summary: ClusterInfoSummary) {
        let record = try cluster(id)
        let observedAt = Timestamp.now()
        return (record.id, observedAt, ClusterInfoSummary(TopologyReader(access: settings.access(for: record)).read()))
    }

    public func takeSnapshot(_ id: String) throws -> SnapshotRecord {
        let document = try topology(id)
        return try ServiceError.wrap {
            try store.insertSnapshot(clusterId: document.clusterId, reason: "manual", jobId: nil, topology: try JSONText.string(document))
        }
    }

    public func snapshots(_ id: String, before: Int64?, limit: Int) throws -> [SnapshotRecord] {
        try ServiceError.wrap { try store.snapshots(clusterId: try ClusterService.record(id, in: store).id, before: before, limit: limit) }
    }

    public func snapshot(_ id: String, snapshotId: Int64) throws -> SnapshotRecord {
        try ServiceError.wrap {
            let record = try ClusterService.record(id, in: store)
            guard let snapshot = try store.snapshot(clusterId: record.id, id: snapshotId) else {
                throw ServiceError.notFound("cluster '\(record.id)' has no snapshot '\(snapshotId)'")
            }
            return snapshot
        }
    }

    /// The cluster's backups, newest first, without their manifests. A backup without a manifest is named by its
    /// job's state: `running`, `failed`, `cancelled` (or `incomplete` when its job is gone).
    public func backups(_ id: String) throws -> [BackupListing] {
        try ServiceError.wrap {
            let record = try ClusterService.record(id, in: store)
            return try (backupDirectory?.list(clusterId: record.id) ?? []).map { listing in
                var brief = try withJobStatus(listing)
                brief.manifest = nil
                return brief
            }
        }
    }

    /// One backup, with its manifest when complete.
    public func backup(_ id: String, backupId: String) throws -> BackupListing {
        try ServiceError.wrap {
            let record = try ClusterService.record(id, in: store)
            guard let listing = backupDirectory?.backup(clusterId: record.id, backupId: backupId) else {
                throw ServiceError.notFound("cluster '\(record.id)' has no backup '\(backupId)'")
            }
            return try withJobStatus(listing)
        }
    }

    private func withJobStatus(_ listing: BackupListing) throws -> BackupListing {
        guard listing.status != "complete", let jobId = listing.jobId else { return listing }
        var named = listing
        switch try store.job(jobId)?.status {
        case .queued?, .running?: named.status = "running"
        case .failed?: named.status = "failed"
        case .cancelled?: named.status = "cancelled"
        default: named.status = "incomplete"
        }
        return named
    }

    static func record(_ id: String, in store: Store) throws -> ClusterRecord {
        guard let record = try store.cluster(id) else { throw StoreError.clusterNotFound(id) }
        return record
    }

    public static func isValidId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func allowed(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }
        return allowed(bytes[0]) && bytes.dropFirst().allSatisfy { allowed($0) || $0 == 0x2d }
    }
}
