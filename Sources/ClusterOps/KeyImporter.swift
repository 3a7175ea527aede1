import ClusterModel
import Foundation
import RESP

/// Imports the keys of a standalone Redis into the cluster, as `redis-cli --cluster import` does: the source is
/// walked with SCAN, and each page of keys is sent with MIGRATE (several in one round trip, each carrying keys of
/// one target master only) to the master that owns each key's slot.
///
/// Resumable: after every page the SCAN cursor it reached is handed to `checkpoint` with the keys moved, and `run`
/// starts from a given cursor. SCAN returns every key present for the whole scan at least once, so scanning again
/// from a saved cursor misses nothing; keys that already moved are gone from the source (MIGRATE answers NOKEY),
/// and with `copy` a key copied before is found equal on the target and overwritten (see the BUSYKEY rule below).
///
/// Key conflicts follow the reshard's rule: a key present on both sides is overwritten when both values are equal
/// (DUMP) or `replace` is set; otherwise the import stops with `busy_keys` naming the keys.
public final class KeyImporter {
    public struct Options: Sendable {
        /// Leave the source's keys where they are (MIGRATE COPY).
        public var copy: Bool
        /// Overwrite keys the cluster already holds with different values.
        public var replace: Bool
        public var maxKeysPerSecond: Int?
        /// SCAN's COUNT hint.
        public var scanCount: Int
        /// Keys per MIGRATE, at most.
        public var keysPerMigrate: Int
        public var migrateTimeoutMilliseconds: Int

        public init(copy: Bool = false, replace: Bool = false, maxKeysPerSecond: Int? = nil, scanCount: Int = 1000,
                    keysPerMigrate: Int = 100, migrateTimeoutMilliseconds: Int = 60000) {
            self.copy = copy
            self.replace = replace
            self.maxKeysPerSecond = maxKeysPerSecond
            self.scanCount = scanCount
            self.keysPerMigrate = keysPerMigrate
            self.migrateTimeoutMilliseconds = migrateTimeoutMilliseconds
        }
    }

    /// What the source looks like before an import.
    public struct SourceInfo: Sendable, Equatable {
        public var keys: Int
        public var version: String?
    }

    let cluster: ClusterSession
    let source: ClusterSession
    let sourceAddress: String
    let options: Options
    let observer: any OperationObserver
    let limiter: KeyRateLimiter?
    /// The master owning each slot, by address.
    private var owners: [String?] = []

    /// `source` is reached with its own credentials, through the cluster's pool and under its loopback rule.
    public init(cluster: ClusterSession, source: RedisEndpoint, credentials: RedisCredentials?, options: Options,
                observer: any OperationObserver) {
        self.cluster = cluster
        var access = cluster.access
        access.seeds = [source]
        access.credentials = credentials
        access.tls = nil
        self.source = ClusterSession(access: access)
        self.sourceAddress = source.description
        self.options = options
        self.observer = observer
        self.limiter = options.maxKeysPerSecond.map { KeyRateLimiter(keysPerSecond: $0) }
    }

    deinit { source.close() }

    /// Checks that `endpoint` answers and is a standalone Redis (not a cluster node); answers its DBSIZE. Every
    /// refusal says why.
    public static func probe(_ endpoint: RedisEndpoint, credentials: RedisCredentials?, access: ClusterAccess)
        throws(ClusterOpsError) -> SourceInfo {
        var access = access
        access.seeds = [endpoint]
        access.credentials = credentials
        access.tls = nil
        let session = ClusterSession(access: access)
        defer { session.close() }
        let replies: [RESPValue]
        do {
            replies = try session.pipelineAll(endpoint.description, [["INFO", "server"], ["INFO", "cluster"], ["DBSIZE"]], idempotent: true)
        } catch .redis(_, let error) {
            switch error {
            case .wrongPass(let message), .noAuth(let message):
                throw .authenticationFailed("the import source \(endpoint) refused the credentials given: \(message)")
            default:
                throw .impossible("the import source \(endpoint) cannot be read: \(error)")
            }
        } catch {
            throw .impossible("the import source \(endpoint) cannot be read: \(error)")
        }
        let info = (replies[0].string ?? "") + "\n" + (replies[1].string ?? "")
        let fields = InfoFields.parse(info)
        if fields["cluster_enabled"] == "1" {
            throw .impossible("the import source \(endpoint) is a cluster node (cluster_enabled:1); import reads a standalone "
                              + "Redis. Move keys between clusters' nodes with reshard instead")
        }
        return SourceInfo(keys: Int(replies[2].int ?? 0), version: fields["redis_version"] ?? fields["valkey_version"])
    }

    /// Scans from `cursor` ("0": from the start) to the end of the scan; after each page, `checkpoint` gets the
    /// cursor reached and the keys that page moved. `.stopped` when the observer asked to stop between pages.
    public func run(from cursor: String, checkpoint: (String, Int) -> Void) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        try refreshOwners()
        var cursor = cursor
        let count = max(10, min(options.scanCount, limiter?.batchLimit ?? options.scanCount))
        var started = false
        while !started || cursor != "0" {
            started = true
            if observer.shouldStop() { return .stopped }
            let reply = try source.call(sourceAddress, ["SCAN", cursor, "COUNT", "\(count)"], idempotent: true)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let names = parts[1].array else {
                throw .failed("\(sourceAddress) answered SCAN with something that is not a cursor and keys")
            }
            let keys = names.compactMap(\.bytes)
            let moved = keys.isEmpty ? 0 : try migratePage(keys)
            cursor = next
            checkpoint(cursor, moved)
        }
        return .completed
    }

    /// The source's DBSIZE now.
    public func sourceKeys() throws(ClusterOpsError) -> Int {
        Int(try source.call(sourceAddress, ["DBSIZE"], idempotent: true).int ?? 0)
    }

    // MARK: - One page

    private func refreshOwners() throws(ClusterOpsError) {
        let (topology, _) = cluster.topology()
        var owners = [String?](repeating: nil, count: HashSlot.count)
        for master in topology.masters where master.reachable {
            for slot in master.slots.slots { owners[slot] = master.address }
        }
        self.owners = owners
    }

    /// MIGRATEs `keys`, grouped by target master, in one round trip; answers how many keys moved. A page that a
    /// target refuses because its slot moved meanwhile (MOVED) is sent again once after reading the owners again.
    private func migratePage(_ keys: [[UInt8]]) throws(ClusterOpsError) -> Int {
        do {
            return try migrateOnce(keys)
        } catch .redis(let endpoint, .server(let code, let message)) where message.contains("MOVED") || message.contains("ASK") {
            observer.event("a target refused keys (\(code) \(message)); reading the slot owners again", node: endpoint)
            try refreshOwners()
            return try migrateOnce(keys)
        }
    }

    private func migrateOnce(_ keys: [[UInt8]]) throws(ClusterOpsError) -> Int {
        var byTarget: [String: [[UInt8]]] = [:]
        var order: [String] = []
        for key in keys {
            let slot = HashSlot.slot(for: key)
            guard let owner = owners[slot] else {
                throw .impossible("slot \(slot) (of key '\(String(decoding: key, as: UTF8.self))') has no reachable master; run fix first")
            }
            if byTarget[owner] == nil { order.append(owner) }
            byTarget[owner, default: []].append(key)
        }
        var batches: [(target: String, keys: [[UInt8]])] = []
        for target in order {
            let targetKeys = byTarget[target] ?? []
            var start = 0
            while start < targetKeys.count {
                let end = min(start + max(1, options.keysPerMigrate), targetKeys.count)
                batches.append((target, Array(targetKeys[start..<end])))
                start = end
            }
        }
        limiter?.acquire(keys.count)
        var commands: [[[UInt8]]] = []
        for batch in batches {
            commands.append(try command(batch.keys, to: batch.target, replace: options.replace))
        }
        let each = Double(options.migrateTimeoutMilliseconds) / 1000
        let results = try source.pipeline(sourceAddress, bytes: commands, idempotent: true,
                                          readTimeout: each * Double(min(commands.count, 4)) + source.access.readTimeout)
        var moved = 0
        for (batch, result) in zip(batches, results) {
            switch result {
            case .success(let reply):
                if reply.string != "NOKEY" { moved += batch.keys.count }
            case .failure(let error) where error.isBusyKey:
                moved += try migrateBusy(batch.keys, to: batch.target)
            case .failure(let error):
                throw .redis(endpoint: sourceAddress, error)
            }
        }
        return moved
    }

    /// `MIGRATE host port "" 0 timeout [COPY] [REPLACE] [AUTH…] KEYS k…`, with the cluster's credentials.
    private func command(_ keys: [[UInt8]], to target: String, replace: Bool) throws(ClusterOpsError) -> [[UInt8]] {
        guard let endpoint = RedisEndpoint(target) else { throw .impossible("bad target address \(target)") }
        let timeouts = MigrationOptions(migrateTimeoutMilliseconds: options.migrateTimeoutMilliseconds)
        var command = cluster.migrateCommand(keys, to: endpoint, options: timeouts, replace: replace)
        if options.copy { command.insert(Array("COPY".utf8), at: 6) }
        return command
    }

    /// A batch hit BUSYKEY: the values of its keys are compared (DUMP, one round trip on each side); keys equal on
    /// both sides (or all, with `replace`) are sent again with REPLACE, keys the target lacks without, and keys
    /// with different values fail the import with `busy_keys`, naming them, before any of them is sent.
    private func migrateBusy(_ keys: [[UInt8]], to target: String) throws(ClusterOpsError) -> Int {
        let dump = keys.map { [Array("DUMP".utf8), $0] }
        let here = try source.pipeline(sourceAddress, bytes: dump, idempotent: true)
        let there = try cluster.pipeline(target, bytes: dump, idempotent: true)
        var fresh: [[UInt8]] = []
        var equal: [[UInt8]] = []
        var conflicts: [[UInt8]] = []
        for (key, (mine, theirs)) in zip(keys, zip(here, there)) {
            guard case .success(let value) = mine, value != .null else { continue }
            switch theirs {
            case .success(.null): fresh.append(key)
            case .success(let other) where other == value || options.replace: equal.append(key)
            default: conflicts.append(key)
            }
        }
        if let first = conflicts.first {
            throw .busyKeys(slot: HashSlot.slot(for: first), keys: conflicts.map { String(decoding: $0, as: UTF8.self) })
        }
        var moved = 0
        for (batch, replace) in [(fresh, false), (equal, true)] where !batch.isEmpty {
            switch try send(batch, to: target, replace: replace) {
            case .success(let reply):
                if reply.string != "NOKEY" { moved += batch.count }
            case .failure(let error):
                throw .redis(endpoint: sourceAddress, error)
            }
        }
        return moved
    }

    private func send(_ keys: [[UInt8]], to target: String, replace: Bool) throws(ClusterOpsError) -> Result<RESPValue, RedisError> {
        let command = try command(keys, to: target, replace: replace)
        return try source.pipeline(sourceAddress, bytes: [command], idempotent: true,
                                   readTimeout: Double(options.migrateTimeoutMilliseconds) / 1000 + source.access.readTimeout)[0]
    }
}
