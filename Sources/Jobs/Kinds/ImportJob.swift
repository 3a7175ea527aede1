import ClusterModel
import ClusterOps
import Foundation
import RESP

/// `POST /clusters/{id}/import {"from", "username"?, "password"?, "copy"?, "replace"?, "max_keys_per_second"?}`:
/// the keys of a standalone Redis moved (or copied) into the cluster, as `redis-cli --cluster import` does.
///
/// The source's password is never stored or shown in plain text: the stored params carry it sealed under the
/// store's key (`password_sealed`), and it is opened only in memory to connect. The SCAN cursor is checkpointed
/// after every page, so a job interrupted by a crash resumes where it was instead of scanning from the start.
public enum ImportJob: JobKind {
    public struct Params: Codable, Sendable, Equatable {
        public var from: String
        public var username: String?
        /// In memory only: never encoded.
        public var password: String?
        /// The password as stored: sealed under the store's key.
        public var passwordSealed: String?
        public var copy: Bool
        public var replace: Bool
        public var maxKeysPerSecond: Int?

        enum CodingKeys: String, CodingKey {
            case from, username, passwordSealed, copy, replace, maxKeysPerSecond
        }

        var credentials: RedisCredentials? {
            password.map { RedisCredentials(username: username, password: $0) }
        }
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var source: String
        /// The source's DBSIZE when planned.
        public var sourceKeys: Int
        public var sourceVersion: String?
        /// The masters keys go to, with how many slots each owns.
        public var targets: [ImportTarget]
        public var copy: Bool
        public var replace: Bool
    }

    public struct ImportTarget: Codable, Sendable, Equatable {
        public var address: String
        public var slots: Int
    }

    /// The stored checkpoint: the SCAN cursor the import reached.
    struct Checkpoint: Codable {
        var cursor: String
    }

    public static let name = "import"
    public static let fields: Set<String> = ["from", "username", "password", "copy", "replace", "max_keys_per_second"]

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        let from = try request.endpoint("from")
        let username = try request.string("username")
        let password = try request.string("password")
        if let username, username.isEmpty || username.utf8.count > 256 {
            throw RequestFieldError("field 'username' must be 1 to 256 bytes")
        }
        if let password, password.isEmpty || password.utf8.count > 4096 {
            throw RequestFieldError("field 'password' must be 1 to 4096 bytes; leave it out for none")
        }
        if username != nil && password == nil { throw RequestFieldError("field 'username' needs 'password'") }
        return Params(from: from, username: username, password: password, passwordSealed: nil,
                      copy: try request.bool("copy") ?? false, replace: try request.bool("replace") ?? false,
                      maxKeysPerSecond: try request.int("max_keys_per_second", in: 1...100_000_000))
    }

    public static func sealingSecrets(_ params: Params, with seal: (String) throws -> String) throws -> Params {
        var sealed = params
        sealed.passwordSealed = try params.password.map(seal) ?? params.passwordSealed
        sealed.password = nil
        return sealed
    }

    public static func openingSecrets(_ params: Params, with open: (String) throws -> String) throws -> Params {
        var opened = params
        if let sealed = params.passwordSealed { opened.password = try open(sealed) }
        return opened
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        guard let endpoint = RedisEndpoint(params.from) else { throw .impossible("'\(params.from)' is not host:port") }
        let topology = cluster.topology
        if let member = topology.nodes.first(where: { $0.address == params.from }) {
            throw .impossible("\(params.from) is a node of this cluster (\(member.id)); import reads a standalone Redis")
        }
        let masters = topology.masters.filter { $0.reachable && !$0.slots.isEmpty }
        let covered = masters.reduce(0) { $0 + $1.slots.count }
        guard covered == HashSlot.count else {
            throw .impossible("the cluster's masters serve \(covered) of \(HashSlot.count) slots; every slot needs a reachable "
                              + "master before keys can be imported (run fix first)")
        }
        let access = cluster.connections.access(seeds: [endpoint], credentials: nil)
        let info = try KeyImporter.probe(endpoint, credentials: params.credentials, access: access)
        let verb = params.copy ? "copy" : "move"
        return Plan(summary: "\(verb) the keys of \(params.from) (\(info.keys) keys) into \(masters.count) masters",
                    source: params.from, sourceKeys: info.keys, sourceVersion: info.version,
                    targets: masters.map { ImportTarget(address: $0.address, slots: $0.slots.count) },
                    copy: params.copy, replace: params.replace)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        guard let endpoint = RedisEndpoint(plan.source) else { throw .impossible("'\(plan.source)' is not host:port") }
        if params.passwordSealed != nil && params.password == nil {
            throw .failed("the source's password could not be opened; submit the import again")
        }
        let importer = KeyImporter(cluster: context.session, source: endpoint, credentials: params.credentials,
                                   options: .init(copy: params.copy, replace: params.replace, maxKeysPerSecond: params.maxKeysPerSecond),
                                   observer: context.observer)
        var cursor = "0"
        if let text = context.checkpoint.storedCheckpoint,
           let stored = try? JSONText.decode(Checkpoint.self, from: text) {
            cursor = stored.cursor
            context.observer.event("resuming the scan of \(plan.source) from cursor \(cursor), not from the start", node: plan.source)
        } else {
            context.observer.event("scanning \(plan.source) from the start (\(plan.sourceKeys) keys when planned)", node: plan.source)
        }
        // The keys to move: the source's count when planned on a first run, what is left on it when resumed.
        if cursor == "0" {
            context.observer.keysToMove(plan.sourceKeys)
        } else if !params.copy, let left = try? importer.sourceKeys() {
            context.observer.keysToMove(left)
        }
        context.observer.step("import")
        let outcome = try importer.run(from: cursor) { next, moved in
            let text = (try? JSONText.string(Checkpoint(cursor: next))) ?? "{\"cursor\":\"\(next)\"}"
            context.checkpoint.saveCheckpoint(text, keys: moved)
        }
        guard outcome == .completed else { return outcome }
        let left = try importer.sourceKeys()
        if params.copy {
            context.observer.event("copied the keys of \(plan.source); it still holds \(left) keys", node: plan.source)
        } else if left > 0 {
            context.observer.event("\(left) keys are still on \(plan.source) (written or found there after the scan passed); "
                                   + "submit the import again to move them", node: plan.source)
        } else {
            context.observer.event("moved every key of \(plan.source); it is empty", node: plan.source)
        }
        return .completed
    }
}
