import ClusterModel
import ClusterOps
import Dispatch
import Foundation
import RESP
import Store

/// `POST /clusters/{id}/backup {"source"?: "replica"|"master", "max_bytes_per_second"?}`: a consistent RDB snapshot
/// of every shard, as `redis-cli --cluster backup` takes them, written on the service's host under `--backup-dir`
/// with a manifest (the layout, each file's size and SHA-256, the servers, the time).
///
/// Each snapshot is fetched over the replication protocol, as `redis-cli --rdb` does, from one of the shard's
/// replicas in sync (by default, so the master only serves clients) or from the master; `parallel` shards at a time
/// (redis-cli goes one by one, each waiting out the diskless sync delay), so at most that many nodes fork at once.
/// Files finished before an interruption are checked against the checkpoint and kept; the files being written when
/// it happened are fetched again.
public enum BackupJob: JobKind {
    public enum Source: String, Codable, Sendable {
        case replica, master
    }

    /// How a node hands its snapshot over: saved to its own disk first and sent at once (as `redis-cli --cluster
    /// backup` gets it), or streamed from the fork without touching its disk (after `repl-diskless-sync-delay`).
    public enum Transfer: String, Codable, Sendable {
        case disk, diskless
    }

    public struct Params: Codable, Sendable, Equatable {
        public var source: Source
        public var maxBytesPerSecond: Int?
        /// Shards fetched at once (each from its own node); nil: `defaultParallel`.
        public var parallel: Int?
        /// nil: disk.
        public var transfer: Transfer?
    }

    /// At most this many nodes fork for a snapshot at once, unless the request says otherwise (1: one shard at a
    /// time, as redis-cli backs up).
    public static let defaultParallel = 4

    /// One shard to back up: its master and slots, and the node the snapshot is read from.
    public struct Shard: Codable, Sendable, Equatable {
        public var masterId: String
        public var masterAddress: String
        public var slots: SlotSet
        public var source: String
        public var sourceRole: String
        public var server: String?
        /// The master's memory in use when planned (INFO memory used_memory), for the disk check; nil unread.
        public var datasetBytes: Int64?
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var shards: [Shard]
        /// The folder the backup's own folder is made in: `<backup-dir>/<cluster id>`.
        public var directory: String
        /// Free bytes there when planned.
        public var freeBytes: Int64?
    }

    /// Where a backup got to: its id (made when it first started) and the files finished.
    struct Checkpoint: Codable {
        var backupId: String
        var startedAt: String
        var files: [BackupManifest.File]
    }

    public static let name = "backup"
    public static let fields: Set<String> = ["source", "max_bytes_per_second", "parallel", "transfer"]

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        guard let source = Source(rawValue: try request.string("source") ?? "replica") else {
            throw RequestFieldError("field 'source' must be \"replica\" or \"master\"")
        }
        let transfer = try request.string("transfer").map { text throws(RequestFieldError) -> Transfer in
            guard let transfer = Transfer(rawValue: text) else { throw RequestFieldError("field 'transfer' must be \"disk\" or \"diskless\"") }
            return transfer
        }
        return Params(source: source, maxBytesPerSecond: try request.int("max_bytes_per_second", in: 1024...100_000_000_000),
                      parallel: try request.int("parallel", in: 1...16), transfer: transfer)
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        let topology = cluster.topology
        guard let backups = cluster.backups, let directory = backups.folder(clusterId: cluster.clusterId, backupId: "x")?
            .deletingLastPathComponent() else {
            throw .impossible("the service has no backup directory for cluster '\(cluster.clusterId)'")
        }
        let masters = topology.masters.filter { !$0.slots.isEmpty }.sorted { $0.slots.slots.first ?? 0 < $1.slots.slots.first ?? 0 }
        guard !masters.isEmpty else { throw .impossible("no master owns slots: there is nothing to back up") }
        let session = cluster.access.map { ClusterSession(access: $0) }
        defer { session?.close() }
        var shards: [Shard] = []
        for master in masters {
            let masterUp = master.reachable && !master.flags.contains("fail")
            var source: TopologyNode?
            if params.source == .replica, let session {
                // A replica that holds the master's data: link up, no sync running, offset caught up.
                source = master.replicas.compactMap { topology.node(id: $0) }
                    .filter { $0.reachable && !$0.flags.contains("fail") }
                    .first { replica in
                        guard masterUp, let (state, _, _) = try? session.syncState(replica: replica.address, master: master.address) else { return false }
                        return state.isInSync
                    }
            }
            if source == nil {
                guard masterUp else {
                    throw .impossible("\(master.address), the master of slots \(master.slots), is down and has no replica in sync to read from")
                }
                source = master
            }
            guard let source else { continue }
            let dataset = (try? session?.memory(master.address)).flatMap { $0 }.map(\.usedMemory)
            shards.append(Shard(masterId: master.id, masterAddress: master.address, slots: master.slots, source: source.address,
                                sourceRole: source.isMaster ? "master" : "replica", server: source.server?.description,
                                datasetBytes: dataset))
        }
        let fromReplicas = shards.filter { $0.sourceRole == "replica" }.count
        let throttle = params.maxBytesPerSecond.map { ", at most \(ByteCount.text(Int64($0)))/s" } ?? ""
        let parallel = min(shards.count, params.parallel ?? defaultParallel)
        let transfer = params.transfer == .diskless ? "streamed diskless" : "saved on the node's disk and sent"
        return Plan(summary: "back up \(shards.count) shards (\(fromReplicas) from a replica in sync, \(shards.count - fromReplicas) from "
                        + "the master), \(parallel) at a time, \(transfer), into \(directory.path)\(throttle)",
                    shards: shards, directory: directory.path, freeBytes: backups.freeBytes())
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        guard let backups = context.backups else { throw .impossible("the service has no backup directory") }
        var checkpoint: Checkpoint
        if let text = context.checkpoint.storedCheckpoint, let stored = try? JSONText.decode(Checkpoint.self, from: text) {
            checkpoint = stored
            context.observer.event("resuming backup \(stored.backupId): \(stored.files.count) of \(plan.shards.count) files were finished", node: nil)
        } else {
            let now = Date()
            checkpoint = Checkpoint(backupId: BackupDirectory.backupId(startedAt: now, jobId: context.jobId),
                                    startedAt: Timestamp.format(now), files: [])
            save(checkpoint, in: context)
        }
        let folder = try backups.create(clusterId: context.clusterId, backupId: checkpoint.backupId)
        let (layout, _) = context.session.topology()

        // Files finished before an interruption are kept if they are still what was recorded.
        var written = Int64(0)
        var done: [BackupManifest.File] = []
        for file in checkpoint.files {
            let info = try? RDBFileInfo.inspect(folder.appendingPathComponent(file.name).path)
            if info?.size == file.size && info?.sha256 == file.sha256 {
                done.append(file)
                written += file.size
            } else {
                context.observer.event("\(file.name) is not as it was recorded; fetching it again", node: nil)
            }
        }
        checkpoint.files = done
        context.observer.bytesWritten(written, total: nil)

        // Where each shard still to fetch is read from, decided now; then `parallel` fetches at a time.
        var tasks: [BackupFetches.Task] = []
        for (index, shard) in plan.shards.enumerated() {
            let name = String(format: "shard-%02d-%@.rdb", index, String(shard.masterId.prefix(8)))
            if done.contains(where: { $0.name == name }) { continue }
            let source = try currentSource(shard, params: params, in: layout, session: context.session, observer: context.observer)
            guard let endpoint = RedisEndpoint(source.address) else { throw .impossible("bad node address \(source.address)") }
            tasks.append(.init(index: index, shard: shard, name: name, endpoint: endpoint, role: source.role, server: source.server))
        }
        let fetches = BackupFetches(context: context, folder: folder, checkpoint: checkpoint, written: written,
                                    total: plan.shards.count)
        guard try fetches.run(tasks, parallel: params.parallel ?? Self.defaultParallel, bytesPerSecond: params.maxBytesPerSecond,
                              diskless: params.transfer == .diskless) else {
            return .stopped
        }
        checkpoint = fetches.checkpoint
        written = fetches.written

        let manifest = BackupManifest(
            format: 1, id: checkpoint.backupId, clusterId: context.clusterId, jobId: context.jobId,
            startedAt: checkpoint.startedAt, finishedAt: Timestamp.format(Date()),
            nodes: layout.nodes.map { node in
                BackupManifest.Node(id: node.id, address: node.address, role: node.role, masterId: node.masterId,
                                    slots: node.slots, server: node.server?.description)
            },
            files: plan.shards.indices.compactMap { index in
                checkpoint.files.first { $0.name.hasPrefix(String(format: "shard-%02d-", index)) }
            },
            bytes: written)
        try backups.writeManifest(manifest, in: folder)
        if let value = try? JSONText.decode(JSONValue.self, from: JSONText.string(
            BackupListing(id: manifest.id, clusterId: manifest.clusterId, status: "complete", directory: folder.path,
                          createdAt: manifest.startedAt, jobId: manifest.jobId, bytes: written, files: manifest.files.count, manifest: nil))) {
            context.report(value)
        }
        context.observer.event("backup \(manifest.id) complete: \(manifest.files.count) files, \(ByteCount.text(written)) in \(folder.path)", node: nil)
        return .completed
    }

    /// The node to read a shard from now: the planned one while it still serves the shard as planned (a replica
    /// still in sync, or the master still owning the slots), else the shard's current master.
    private static func currentSource(_ shard: Shard, params: Params, in topology: ClusterTopology, session: ClusterSession,
                                      observer: any OperationObserver) throws(ClusterOpsError) -> (address: String, role: String, server: String?) {
        let owner = topology.masters.first { $0.slots.intersection(shard.slots) == shard.slots }
        if let planned = topology.nodes.first(where: { $0.isNamed(shard.source) }), planned.reachable {
            if planned.isMaster, planned.id == owner?.id {
                return (planned.address, "master", planned.server?.description)
            }
            if !planned.isMaster, let owner, planned.masterId == owner.id,
               (try? session.syncState(replica: planned.address, master: owner.address))?.0.isInSync == true {
                return (planned.address, "replica", planned.server?.description)
            }
        }
        guard let owner, owner.reachable else {
            throw .failed("no reachable node holds slots \(shard.slots) (planned from \(shard.source)); the backup cannot be finished")
        }
        observer.event("\(shard.source) no longer serves slots \(shard.slots) as planned; reading them from the master \(owner.address)",
                       node: owner.address)
        return (owner.address, "master", owner.server?.description)
    }

    static func save(_ checkpoint: Checkpoint, in context: JobContext) {
        guard let text = try? JSONText.string(checkpoint) else { return }
        context.checkpoint.saveCheckpoint(text, keys: 0)
    }
}

/// The fetches of one backup, `parallel` at a time, each on a thread of its own with its own connection: the bytes
/// written are summed for progress, each file is checkpointed as it finishes, and the first failure stops the others
/// (each removes the file it was writing). Every call into the job's reporter goes through one lock.
final class BackupFetches: @unchecked Sendable {
    struct Task {
        var index: Int
        var shard: BackupJob.Shard
        var name: String
        var endpoint: RedisEndpoint
        var role: String
        var server: String?
    }

    private let context: JobContext
    private let folder: URL
    private let total: Int
    private let shared: SynchronizedObserver
    // Guarded by `shared.serialized`.
    private(set) var checkpoint: BackupJob.Checkpoint
    private(set) var written: Int64
    private var inFlight: [Int: Int64] = [:]
    /// The sizes the nodes announced for the files being written.
    private var sizes: [Int: Int64] = [:]
    private var taskCount = 0
    private var failure: ClusterOpsError?
    private var next = 0

    init(context: JobContext, folder: URL, checkpoint: BackupJob.Checkpoint, written: Int64, total: Int) {
        self.context = context
        self.folder = folder
        self.checkpoint = checkpoint
        self.written = written
        self.total = total
        shared = SynchronizedObserver(context.observer)
    }

    /// True when every task finished; false when the job was asked to stop (cancel, shutdown) first. Throws the
    /// first failure.
    func run(_ tasks: [Task], parallel: Int, bytesPerSecond: Int?, diskless: Bool) throws(ClusterOpsError) -> Bool {
        guard !tasks.isEmpty else { return true }
        taskCount = tasks.count
        let workers = max(1, min(parallel, tasks.count))
        // The throttle is the whole backup's: each of the concurrent fetches gets its share.
        let share = bytesPerSecond.map { max(1024, $0 / workers) }
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                while let task = take(tasks) {
                    fetch(task, bytesPerSecond: share, diskless: diskless)
                }
            }
        }
        group.wait()
        if let failure {
            // A stop asked for meanwhile explains the failures it caused: the job stops rather than fails.
            if context.observer.shouldStop() { return false }
            throw failure
        }
        return true
    }

    private func take(_ tasks: [Task]) -> Task? {
        shared.serialized { () -> Task? in
            guard failure == nil, next < tasks.count else { return nil }
            defer { next += 1 }
            return tasks[next]
        }
    }

    private func fetch(_ task: Task, bytesPerSecond: Int?, diskless: Bool) {
        if shared.shouldStop() {
            shared.serialized { failure = failure ?? .failed("stopped before \(task.name)") }
            return
        }
        shared.step("fetching \(task.name) from \(task.endpoint) (\(task.index + 1)/\(total))")
        do {
            var fetcher = RDBFetcher(node: task.endpoint, access: context.session.access, observer: shared)
            fetcher.diskless = diskless
            let info = try fetcher.fetch(to: folder.appendingPathComponent(task.name), bytesPerSecond: bytesPerSecond,
                                         progress: { bytes, total in self.progress(task.index, bytes, of: total) })
            let file = BackupManifest.File(name: task.name, masterId: task.shard.masterId, masterAddress: task.shard.masterAddress,
                                           slots: task.shard.slots, source: task.endpoint.description, sourceRole: task.role,
                                           server: task.server, size: info.size, sha256: info.sha256, header: info.header,
                                           takenAt: Timestamp.format(Date()))
            shared.serialized {
                inFlight[task.index] = nil
                sizes[task.index] = nil
                written += info.size
                checkpoint.files.append(file)
                BackupJob.save(checkpoint, in: context)
            }
            shared.event("\(task.name): \(ByteCount.text(info.size)) from \(task.endpoint) (\(task.role)), sha256 \(info.sha256.prefix(16))…",
                         node: task.endpoint.description)
        } catch {
            shared.streamFailed()
            shared.serialized {
                inFlight[task.index] = nil
                sizes[task.index] = nil
                failure = failure ?? error
            }
            shared.event("\(task.name) from \(task.endpoint) not written: \(error)", node: task.endpoint.description)
        }
    }

    /// The bytes of every file so far, and their total once every file still to come has started with its length
    /// (disk transfers say it; diskless streams do not).
    private func progress(_ index: Int, _ bytes: Int64, of size: Int64?) {
        let (done, total) = shared.serialized { () -> (Int64, Int64?) in
            inFlight[index] = bytes
            sizes[index] = size
            let done = written + inFlight.values.reduce(0, +)
            let known = next >= taskCount && inFlight.keys.allSatisfy { sizes[$0] != nil }
            return (done, known ? written + sizes.values.reduce(0, +) : nil)
        }
        shared.bytesWritten(done, total: total)
    }
}

extension BackupJob {
    /// A snapshot is read with SYNC and REPLCONF on each source; the disk must hold about the shards' data sets.
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        var effects = PlanEffects()
        effects.needs = plan.shards.map(\.source)
        effects.commands = plan.shards.flatMap { [($0.source, ["SYNC"]), ($0.source, ["REPLCONF", "rdb-only", "1"])] }
        effects.kindChecks = [diskSpace(plan)]
        return effects
    }

    /// RDB files are usually smaller than the data set in memory (they are compact and compressed), so this
    /// only warns: a full disk fails the job cleanly anyway, with no file left that looks whole.
    static func diskSpace(_ plan: Plan) -> PreflightCheck {
        let dataset = plan.shards.compactMap(\.datasetBytes).reduce(0, +)
        guard let free = plan.freeBytes else {
            return PreflightCheck("disk_space", .warn, "the free space of \(plan.directory) could not be read")
        }
        let figures: [String: JSONValue] = ["free_bytes": .int(free), "dataset_bytes": .int(dataset)]
        if free < dataset {
            return PreflightCheck("disk_space", .warn, "\(plan.directory) has \(ByteCount.text(free)) free; the shards' data sets take "
                                  + "\(ByteCount.text(dataset)) in memory, and their RDB files may need up to that",
                                  figures: figures, action: "free space or point --backup-dir at a larger disk")
        }
        return PreflightCheck("disk_space", .ok, "\(ByteCount.text(free)) free in \(plan.directory) for data sets of \(ByteCount.text(dataset))",
                              figures: figures)
    }
}
