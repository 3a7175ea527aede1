import ClusterModel
import RESP

/// The two sides of one atomic migration: node ids and the addresses they answer on.
public struct MigrationEnds: Sendable, Equatable, Hashable {
    public var source: String
    public var sourceAddress: String
    public var target: String
    public var targetAddress: String

    public init(source: String, sourceAddress: String, target: String, targetAddress: String) {
        self.source = source
        self.sourceAddress = sourceAddress
        self.target = target
        self.targetAddress = targetAddress
    }
}

/// How one server family starts, watches and cancels an atomic slot migration: commands and replies only, no
/// I/O, so each family's dialect is unit-tested on recorded replies.
public protocol AtomicMigrationProtocol: Sendable {
    var kind: AtomicMigrationKind { get }
    /// True when a node runs one migration at a time (Redis 8.4); Valkey queues its own.
    var oneAtATime: Bool { get }
    /// The node that takes the start command and the command itself.
    func start(_ slots: SlotSet, _ ends: MigrationEnds) -> (address: String, command: [String])
    /// The task id in the start command's reply, when the server gives one there.
    func taskId(startReply: RESPValue) -> String?
    /// The nodes whose reports tell the migration's state, most authoritative first.
    func reporters(_ ends: MigrationEnds) -> [String]
    /// The command that lists a node's migrations, and its reply parsed; nil for a reply that cannot be read.
    var statusCommand: [String] { get }
    func statuses(_ reply: RESPValue) -> [AtomicMigrationStatus]?
    /// How to cancel it: the node and the command. Valkey cancels every export of the source at once.
    func cancel(taskId: String, _ ends: MigrationEnds) -> (address: String, command: [String])
}

extension AtomicMigrationKind {
    public var commands: any AtomicMigrationProtocol {
        switch self {
        case .valkeyMigrateSlots: ValkeyMigrateSlots()
        case .redisClusterMigration: RedisClusterMigration()
        }
    }
}

/// Valkey ≥ 9.0. `CLUSTER MIGRATESLOTS SLOTSRANGE s e ... NODE <target>` to the source answers OK and runs in the
/// background; `CLUSTER GETSLOTMIGRATIONS` on either side lists jobs (newest first) as flat field arrays with
/// `name`, `operation` (EXPORT/IMPORT), `slot_ranges`, `source_node`, `target_node`, `state`, `message`; the states
/// `success`, `failed` and `cancelled` are final. The target's report is the one that lasts: a source that gives up
/// its last slot becomes a replica and its log is wiped at its full sync. `CLUSTER CANCELSLOTMIGRATIONS` (no
/// arguments) on the source cancels all of its exports.
public struct ValkeyMigrateSlots: AtomicMigrationProtocol {
    public init() {}

    public var kind: AtomicMigrationKind { .valkeyMigrateSlots }
    public var oneAtATime: Bool { false }

    public func start(_ slots: SlotSet, _ ends: MigrationEnds) -> (address: String, command: [String]) {
        let ranges = slots.ranges.flatMap { ["\($0.lowerBound)", "\($0.upperBound)"] }
        return (ends.sourceAddress, ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE"] + ranges + ["NODE", ends.target])
    }

    public func taskId(startReply: RESPValue) -> String? { nil }

    public func reporters(_ ends: MigrationEnds) -> [String] { [ends.targetAddress, ends.sourceAddress] }

    public var statusCommand: [String] { ["CLUSTER", "GETSLOTMIGRATIONS"] }

    public func statuses(_ reply: RESPValue) -> [AtomicMigrationStatus]? {
        AtomicMigrationStatus.list(reply, names: .init(id: "name", slots: "slot_ranges", source: "source_node",
                                                       target: "target_node", message: "message")) { state in
            switch state {
            case "success": .succeeded
            case "failed": .failed
            case "cancelled": .cancelled
            default: .active
            }
        }
    }

    public func cancel(taskId: String, _ ends: MigrationEnds) -> (address: String, command: [String]) {
        (ends.sourceAddress, ["CLUSTER", "CANCELSLOTMIGRATIONS"])
    }
}

/// Redis ≥ 8.4. `CLUSTER MIGRATION IMPORT s e ...` goes to the destination, which finds the source from the slots'
/// owner and answers the task id; one task runs at a time. `CLUSTER MIGRATION STATUS ID <id>` lists tasks as flat
/// field arrays with `id`, `slots`, `source`, `dest`, `operation` (import/migrate), `state`, `last_error`; the
/// states `completed`, `failed` and `canceled` are final for this service (a failed task is cancelled and started
/// again by the job, not left to the server's own retries). `CLUSTER MIGRATION CANCEL ID <id>` on the destination.
public struct RedisClusterMigration: AtomicMigrationProtocol {
    public init() {}

    public var kind: AtomicMigrationKind { .redisClusterMigration }
    public var oneAtATime: Bool { true }

    public func start(_ slots: SlotSet, _ ends: MigrationEnds) -> (address: String, command: [String]) {
        let ranges = slots.ranges.flatMap { ["\($0.lowerBound)", "\($0.upperBound)"] }
        return (ends.targetAddress, ["CLUSTER", "MIGRATION", "IMPORT"] + ranges)
    }

    public func taskId(startReply: RESPValue) -> String? {
        guard let id = startReply.string, !id.isEmpty, id != "OK" else { return nil }
        return id
    }

    public func reporters(_ ends: MigrationEnds) -> [String] { [ends.targetAddress] }

    public var statusCommand: [String] { ["CLUSTER", "MIGRATION", "STATUS", "ALL"] }

    public func statuses(_ reply: RESPValue) -> [AtomicMigrationStatus]? {
        AtomicMigrationStatus.list(reply, names: .init(id: "id", slots: "slots", source: "source", target: "dest",
                                                       message: "last_error")) { state in
            switch state {
            case "completed": .succeeded
            case "failed": .failed
            case "canceled", "cancelled": .cancelled
            default: .active
            }
        }
    }

    public func cancel(taskId: String, _ ends: MigrationEnds) -> (address: String, command: [String]) {
        (ends.targetAddress, ["CLUSTER", "MIGRATION", "CANCEL", "ID", taskId])
    }
}

extension String {
    /// Without leading and trailing spaces and line ends (Valkey keeps the peer's "\r\n" in its messages).
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace || last.isNewline { text.removeLast() }
        while let first = text.first, first.isWhitespace || first.isNewline { text.removeFirst() }
        return String(text)
    }
}
