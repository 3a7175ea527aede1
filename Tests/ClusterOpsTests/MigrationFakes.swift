@testable import ClusterOps
import ClusterModel
import RESP
import Testing

typealias Reply = Result<RESPValue, RedisError>

func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

/// An error reply as the connection classifies it.
func errorReply(_ text: String) -> Reply { .failure(RedisError.fromErrorReply(text)) }

/// A cluster's replies, scripted per node and command, on a clock that only `pause` moves.
///
/// Each (address, command) has a queue of replies: every call takes the next one and the last one repeats.
/// `COUNTKEYSINSLOT` is answered from `keysInSlot`. Hooks run after a command is answered, so a test can
/// change what the nodes report at the moment a migration is started or cancelled.
final class ScriptedNodeIO: MigrationNodeIO {
    struct Call: CustomStringConvertible {
        var address: String
        var command: [String]
        var time: Double
        var reply: Reply

        var description: String { "\(address) \(command.joined(separator: " "))" }
    }

    private struct Queue {
        var replies: [Reply]
        var whenLastServed: ((ScriptedNodeIO) -> Void)?
    }

    private struct Hook {
        var address: String
        var prefix: [String]
        var count = 0
        var action: (ScriptedNodeIO, Int) -> Void
    }

    static let startTime = 1000.0
    /// Far more fake time than any scenario needs: past it the observer is asked to stop.
    static let runawayAfter = 3600.0

    private(set) var calls: [Call] = []
    private(set) var unscripted: [String] = []
    private(set) var now = ScriptedNodeIO.startTime
    private(set) var runaway = false
    /// COUNTKEYSINSLOT answers: address → slot → keys; 0 for a slot not listed.
    var keysInSlot: [String: [Int: Int]] = [:]
    private var queues: [String: Queue] = [:]
    private var hooks: [Hook] = []

    private static func key(_ address: String, _ command: [String]) -> String {
        address + "|" + command.joined(separator: " ")
    }

    /// Replaces the replies `address` gives to `command`; `whenLastServed` runs once, when the last one is first given.
    func script(_ address: String, _ command: [String], _ replies: [Reply],
                whenLastServed: ((ScriptedNodeIO) -> Void)? = nil) {
        precondition(!replies.isEmpty)
        queues[Self.key(address, command)] = Queue(replies: replies, whenLastServed: whenLastServed)
    }

    func script(_ address: String, _ command: [String], _ replies: RESPValue...) {
        script(address, command, replies.map { .success($0) })
    }

    /// True once the queue for `command` is down to its last (repeating) reply.
    func reachedLast(_ address: String, _ command: [String]) -> Bool {
        (queues[Self.key(address, command)]?.replies.count ?? 0) <= 1
    }

    /// Runs `action` after each command to `address` that starts with `prefix`, with how many so far (1-based).
    func after(_ address: String, _ prefix: [String], _ action: @escaping (ScriptedNodeIO, Int) -> Void) {
        hooks.append(Hook(address: address, prefix: prefix, action: action))
    }

    /// Calls to `address` (any node when nil) whose command starts with `prefix`.
    func sent(_ prefix: [String], to address: String? = nil) -> [Call] {
        calls.filter { call in
            (address == nil || call.address == address) && call.command.starts(with: prefix)
        }
    }

    func index(of prefix: [String], to address: String, occurrence: Int = 1) -> Int? {
        var seen = 0
        for (index, call) in calls.enumerated() where call.address == address && call.command.starts(with: prefix) {
            seen += 1
            if seen == occurrence { return index }
        }
        return nil
    }

    private func answer(_ address: String, _ command: [String]) -> Reply {
        let reply: Reply
        let key = Self.key(address, command)
        var lastServed: ((ScriptedNodeIO) -> Void)?
        if command.count == 3, command[0] == "CLUSTER", command[1] == "COUNTKEYSINSLOT", let slot = Int(command[2]) {
            reply = .success(.integer(Int64(keysInSlot[address]?[slot] ?? 0)))
        } else if var queue = queues[key] {
            if queue.replies.count > 1 {
                reply = queue.replies.removeFirst()
            } else {
                reply = queue.replies[0]
                lastServed = queue.whenLastServed
                queue.whenLastServed = nil
            }
            queues[key] = queue
        } else {
            unscripted.append(key)
            reply = errorReply("ERR unscripted command")
        }
        calls.append(Call(address: address, command: command, time: now, reply: reply))
        lastServed?(self)
        for index in hooks.indices where hooks[index].address == address && command.starts(with: hooks[index].prefix) {
            hooks[index].count += 1
            let (action, count) = (hooks[index].action, hooks[index].count)
            action(self, count)
        }
        return reply
    }

    // MARK: MigrationNodeIO

    func call(_ address: String, _ command: [String], idempotent: Bool) throws(ClusterOpsError) -> RESPValue {
        switch answer(address, command) {
        case .success(let value): return value
        case .failure(let error): throw .redis(endpoint: address, error)
        }
    }

    func reads(_ address: String, _ commands: [[String]]) throws(ClusterOpsError) -> [Result<RESPValue, RedisError>] {
        commands.map { answer(address, $0) }
    }

    func pause(_ seconds: Double) {
        now += seconds
        if now - Self.startTime > Self.runawayAfter, !runaway {
            runaway = true
            Issue.record("the migrator was still running after \(Self.runawayAfter) s of fake time")
        }
    }
}

/// Everything the migrator tells its job; `stop` is what `shouldStop` answers.
final class RecordingObserver: OperationObserver {
    struct Event: Equatable {
        var message: String
        var node: String?
    }

    struct Moved: Equatable {
        var count: Int
        var keys: Int
    }

    private(set) var events: [Event] = []
    private(set) var steps: [String] = []
    private(set) var moved: [Moved] = []
    var stop = false
    private let io: ScriptedNodeIO?

    init(io: ScriptedNodeIO? = nil) {
        self.io = io
    }

    func event(_ message: String, node: String?) { events.append(Event(message: message, node: node)) }
    func step(_ name: String) { steps.append(name) }
    func slotsMoved(_ count: Int, keys: Int) { moved.append(Moved(count: count, keys: keys)) }
    func shouldStop() -> Bool { stop || io?.runaway == true }

    func events(containing text: String) -> [Event] { events.filter { $0.message.contains(text) } }
}

// MARK: - Replies in the servers' formats

/// A node in `CLUSTER NODES`: `slots` as the server prints them ("5461-10922", "0-300 9501-9600", "").
struct NodeLine {
    var id: String
    var port: Int
    var master: String?
    var epoch: Int
    var slots: String

    static func master(_ id: String, _ port: Int, epoch: Int, _ slots: String) -> NodeLine {
        NodeLine(id: id, port: port, master: nil, epoch: epoch, slots: slots)
    }

    static func replica(_ id: String, _ port: Int, of master: String, epoch: Int) -> NodeLine {
        NodeLine(id: id, port: port, master: master, epoch: epoch, slots: "")
    }
}

/// `CLUSTER NODES` as `myself` answers it (bulk string, one LF-terminated line per node, own line flagged).
func clusterNodes(myself: String, _ lines: [NodeLine]) -> RESPValue {
    let text = lines.map { line in
        let isMe = line.id == myself
        let flags = (isMe ? "myself," : "") + (line.master == nil ? "master" : "slave")
        let pong = isMe ? "0" : "1795303940123"
        return "\(line.id) 127.0.0.1:\(line.port)@\(line.port + 10000) \(flags) \(line.master ?? "-") 0 \(pong) "
            + "\(line.epoch) connected" + (line.slots.isEmpty ? "" : " " + line.slots)
    }.joined(separator: "\n") + "\n"
    return bulk(text)
}

/// Valkey 9 `CLUSTER GETSLOTMIGRATIONS` entries (FINDINGS §2): flat arrays of 12 pairs, 10 on a target's replica.
enum ValkeyLog {
    static let command = ["CLUSTER", "GETSLOTMIGRATIONS"]
    static let time: Int64 = 1_795_303_940

    static func entry(_ name: String, _ operation: String, slots: String, target: String, source: String,
                      state: String, message: String = "") -> RESPValue {
        .array([
            bulk("name"), bulk(name),
            bulk("operation"), bulk(operation),
            bulk("slot_ranges"), bulk(slots),
            bulk("target_node"), bulk(target),
            bulk("source_node"), bulk(source),
            bulk("create_time"), .integer(time),
            bulk("last_update_time"), .integer(time),
            bulk("last_ack_time"), .integer(time),
            bulk("state"), bulk(state),
            bulk("message"), bulk(message),
            bulk("cow_size"), .integer(0),
            bulk("remaining_repl_size"), .integer(0),
        ])
    }

    /// A replica of the target lists the job without `target_node` and `source_node`.
    static func replicaEntry(_ name: String, slots: String, state: String, message: String = "") -> RESPValue {
        .array([
            bulk("name"), bulk(name),
            bulk("operation"), bulk("IMPORT"),
            bulk("slot_ranges"), bulk(slots),
            bulk("create_time"), .integer(time),
            bulk("last_update_time"), .integer(time),
            bulk("last_ack_time"), .integer(time),
            bulk("state"), bulk(state),
            bulk("message"), bulk(message),
            bulk("cow_size"), .integer(0),
            bulk("remaining_repl_size"), .integer(0),
        ])
    }

    static func log(_ entries: RESPValue...) -> RESPValue { .array(entries) }
    static func log(_ entries: [RESPValue]) -> RESPValue { .array(entries) }
}

/// Redis 8.4 `CLUSTER MIGRATION STATUS` tasks (FINDINGS §9): flat arrays of 12 pairs, times in unix ms.
enum RedisTasks {
    static let status = ["CLUSTER", "MIGRATION", "STATUS", "ALL"]

    static func task(_ id: String, slots: String, source: String, dest: String, operation: String = "import",
                     state: String, lastError: String = "", retries: Int64 = 0) -> RESPValue {
        let finished = ["completed", "failed", "canceled"].contains(state)
        return .array([
            bulk("id"), bulk(id),
            bulk("slots"), bulk(slots),
            bulk("source"), bulk(source),
            bulk("dest"), bulk(dest),
            bulk("operation"), bulk(operation),
            bulk("state"), bulk(state),
            bulk("last_error"), bulk(lastError),
            bulk("retries"), .integer(retries),
            bulk("create_time"), .integer(1_790_405_105_443),
            bulk("start_time"), .integer(1_790_405_105_443),
            bulk("end_time"), .integer(finished ? 1_790_405_105_445 : -1),
            bulk("write_pause_ms"), .integer(state == "completed" && operation == "migrate" ? 2 : 0),
        ])
    }

    static func list(_ tasks: RESPValue...) -> RESPValue { .array(tasks) }
}

extension SlotSet {
    static func of(_ ranges: ClosedRange<Int>...) -> SlotSet { SlotSet(ranges: ranges) }
}
