@testable import ClusterOps
import ClusterModel
import RESP
import Testing

/// Ids and replies from the Valkey 9.1.2 probe.
private enum Recorded {
    static let source = "021f7f5b4254b68afb9e75f05c99a4fac7c594c9"
    static let target = "9f4d982bc7a70a1b39aab1341bc9af607a2fbf74"
    static let job = "76a5e27cd99002fd26e204c575848bebd6038231"
    static let ends = MigrationEnds(source: source, sourceAddress: "127.0.0.1:21002", target: target, targetAddress: "127.0.0.1:21004")

    static func decode(_ wire: String) throws -> RESPValue {
        var decoder = RESPDecoder()
        decoder.append(Array(wire.utf8))
        return try #require(try decoder.next())
    }

    static func wireBulk(_ text: String) -> String { "$\(text.utf8.count)\r\n\(text)\r\n" }

    /// One finished job as 21002 sent it (FINDINGS §2): `*24` in RESP2, `%12` in RESP3.
    static func recordedJob(header: String, state: String = "success", message: String = "") -> String {
        header
            + wireBulk("name") + wireBulk(job)
            + wireBulk("operation") + wireBulk("EXPORT")
            + wireBulk("slot_ranges") + wireBulk("5461-8191")
            + wireBulk("target_node") + wireBulk(target)
            + wireBulk("source_node") + wireBulk(source)
            + wireBulk("create_time") + ":1795303940\r\n"
            + wireBulk("last_update_time") + ":1795303940\r\n"
            + wireBulk("last_ack_time") + ":1795303940\r\n"
            + wireBulk("state") + wireBulk(state)
            + wireBulk("message") + wireBulk(message)
            + wireBulk("cow_size") + ":0\r\n"
            + wireBulk("remaining_repl_size") + ":0\r\n"
    }

    static func entry(replacing key: String, with value: RESPValue?) -> RESPValue {
        var items = ValkeyLog.entry(job, "EXPORT", slots: "0-10", target: target, source: source, state: "snapshotting").array!
        let index = items.firstIndex(of: bulk(key))!
        if let value {
            items[index + 1] = value
        } else {
            items.removeSubrange(index...(index + 1))
        }
        return .array(items)
    }
}

/// Each server family's dialect on the replies recorded from Valkey 9.1.2 and built from Redis 8.4's documented format.
@Suite struct AtomicMigrationProtocolTests {
    // MARK: - Valkey GETSLOTMIGRATIONS

    @Test(arguments: ["*24\r\n", "%12\r\n"])
    func valkeyReadsTheRecordedReplyInEitherProtocol(header: String) throws {
        let reply = try Recorded.decode("*1\r\n" + Recorded.recordedJob(header: header))
        let statuses = ValkeyMigrateSlots().statuses(reply)
        #expect(statuses == [AtomicMigrationStatus(id: Recorded.job, slots: SlotSet.of(5461...8191), source: Recorded.source,
                                                   target: Recorded.target, state: "success", phase: .succeeded, message: "")])
    }

    @Test func valkeyTrimsTheTargetsLineEndFromAFailureMessage() throws {
        let message = "Received error during handshake to target: -ERR Slot migration can only be used on primary nodes.\r\n"
        let reply = try Recorded.decode("*1\r\n" + Recorded.recordedJob(header: "*24\r\n", state: "failed", message: message))
        let status = try #require(ValkeyMigrateSlots().statuses(reply)?.first)
        #expect(status.phase == .failed)
        #expect(status.message == "Received error during handshake to target: -ERR Slot migration can only be used on primary nodes.")
    }

    @Test(arguments: [
        ("5461-8191", SlotSet.of(5461...8191)),
        ("12500-12500", SlotSet([12500])),
        ("0-10 20-30", SlotSet.of(0...10, 20...30)),
        ("301-5460 9501-9600 11301-11399", SlotSet.of(301...5460, 9501...9600, 11301...11399)),
        ("0-16383", SlotSet.all),
    ])
    func valkeySlotRanges(text: String, slots: SlotSet) throws {
        let reply = ValkeyLog.log(ValkeyLog.entry(Recorded.job, "IMPORT", slots: text, target: Recorded.target, source: Recorded.source,
                                                  state: "receiving-snapshot"))
        let status = try #require(ValkeyMigrateSlots().statuses(reply)?.first)
        #expect(status.slots == slots)
    }

    @Test(arguments: [
        ("success", AtomicMigrationStatus.Phase.succeeded),
        ("failed", .failed),
        ("cancelled", .cancelled),
        ("connecting", .active),
        ("waiting-to-snapshot", .active),
        ("snapshotting", .active),
        ("failover-granted", .active),
        ("waiting-for-ack", .active),
        ("receiving-snapshot", .active),
        ("cleaning-up", .active),
        ("occurring-on-primary", .active),
    ])
    func valkeyStates(state: String, phase: AtomicMigrationStatus.Phase) throws {
        let reply = ValkeyLog.log(ValkeyLog.entry(Recorded.job, "EXPORT", slots: "0-10", target: Recorded.target, source: Recorded.source,
                                                  state: state))
        #expect(ValkeyMigrateSlots().statuses(reply)?.first?.phase == phase)
    }

    @Test func valkeyReadsAReplicaOfTheTargetsEntryWithoutNodeIds() throws {
        let reply = ValkeyLog.log(ValkeyLog.replicaEntry(Recorded.job, slots: "5461-8191", state: "occurring-on-primary"))
        #expect(reply.array?.first?.array?.count == 20)
        let status = try #require(ValkeyMigrateSlots().statuses(reply)?.first)
        #expect(status.source == nil)
        #expect(status.target == nil)
        #expect(status.phase == .active)
        #expect(status.slots == SlotSet.of(5461...8191))
    }

    @Test func valkeyKeepsTheLogsOrderAndReadsAnEmptyLog() {
        let reply = ValkeyLog.log(
            ValkeyLog.entry("b0e519f4" + String(repeating: "1", count: 32), "IMPORT", slots: "12000-13000", target: Recorded.target,
                            source: Recorded.source, state: "failed",
                            message: "Connection lost to source. Check CLUSTER GETSLOTMIGRATIONS on the source node for more information."),
            ValkeyLog.entry(Recorded.job, "IMPORT", slots: "5461-8191", target: Recorded.target, source: Recorded.source, state: "success"))
        let statuses = ValkeyMigrateSlots().statuses(reply)
        #expect(statuses?.map(\.slots) == [SlotSet.of(12000...13000), SlotSet.of(5461...8191)])
        #expect(statuses?.first?.message == "Connection lost to source. Check CLUSTER GETSLOTMIGRATIONS on the source node for more information.")
        #expect(ValkeyMigrateSlots().statuses(.array([])) == [])
    }

    @Test(arguments: [
        RESPValue.simpleString("OK"),
        .null,
        .integer(0),
        .bulkString(Array("name x".utf8)),
        .array([.integer(1)]),
        .array([.array([bulk("name"), bulk("x"), bulk("state")])]),
        .array([.array([.integer(1), bulk("x")])]),
        .array([Recorded.entry(replacing: "state", with: nil)]),
        .array([Recorded.entry(replacing: "name", with: nil)]),
        .array([Recorded.entry(replacing: "slot_ranges", with: nil)]),
        .array([Recorded.entry(replacing: "slot_ranges", with: bulk("abc"))]),
        .array([Recorded.entry(replacing: "slot_ranges", with: bulk(""))]),
        .array([Recorded.entry(replacing: "slot_ranges", with: bulk("10-5"))]),
        .array([Recorded.entry(replacing: "slot_ranges", with: bulk("16384-16384"))]),
        .array([Recorded.entry(replacing: "slot_ranges", with: .integer(5))]),
        .array([Recorded.entry(replacing: "state", with: .null)]),
    ])
    func valkeyRejectsGarbage(reply: RESPValue) {
        #expect(ValkeyMigrateSlots().statuses(reply) == nil)
    }

    // MARK: - Redis CLUSTER MIGRATION STATUS

    @Test func redisReadsTheDocumentedRow() throws {
        let id = "24cf41718b20f7f05901743dffc40bc9b15db339"
        // FINDINGS §9's example row, a completed migrate seen on the source.
        let reply = RedisTasks.list(RedisTasks.task(id, slots: "0-100", source: Recorded.source, dest: Recorded.target,
                                                    operation: "migrate", state: "completed"))
        let statuses = RedisClusterMigration().statuses(reply)
        #expect(statuses == [AtomicMigrationStatus(id: id, slots: SlotSet.of(0...100), source: Recorded.source, target: Recorded.target,
                                                   state: "completed", phase: .succeeded, message: "")])
    }

    @Test(arguments: [
        ("completed", AtomicMigrationStatus.Phase.succeeded),
        ("failed", .failed),
        ("canceled", .cancelled),
        ("cancelled", .cancelled),
        ("none", .active),
        ("connecting", .active),
        ("send-handshake", .active),
        ("accumulate-buffer", .active),
        ("streaming-buffer", .active),
        ("takeover", .active),
        ("send-bulk-and-stream", .active),
        ("handoff", .active),
    ])
    func redisStates(state: String, phase: AtomicMigrationStatus.Phase) {
        let reply = RedisTasks.list(RedisTasks.task("24cf41718b20f7f05901743dffc40bc9b15db339", slots: "0-1000 2000-3000",
                                                    source: Recorded.source, dest: Recorded.target, state: state))
        let status = RedisClusterMigration().statuses(reply)?.first
        #expect(status?.phase == phase)
        #expect(status?.slots == SlotSet.of(0...1000, 2000...3000))
    }

    @Test func redisReadsLastErrorAndAnEmptyList() {
        let reply = RedisTasks.list(RedisTasks.task("24cf41718b20f7f05901743dffc40bc9b15db339", slots: "12500-12500",
                                                    source: Recorded.source, dest: Recorded.target, state: "failed",
                                                    lastError: "Connection lost to the source\r\n", retries: 3))
        let status = RedisClusterMigration().statuses(reply)?.first
        #expect(status?.message == "Connection lost to the source")
        #expect(status?.slots == SlotSet([12500]))
        #expect(RedisClusterMigration().statuses(.array([])) == [])
    }

    @Test(arguments: [
        RESPValue.simpleString("OK"),
        .null,
        .array([.null]),
        .array([ValkeyLog.entry(Recorded.job, "EXPORT", slots: "0-10", target: Recorded.target, source: Recorded.source, state: "success")]),
        .array([.array([bulk("id"), bulk("x"), bulk("slots"), bulk("0-10"), bulk("state")])]),
        .array([.array([bulk("id"), bulk("x"), bulk("slots"), bulk("0-99999"), bulk("state"), bulk("completed")])]),
    ])
    func redisRejectsGarbage(reply: RESPValue) {
        #expect(RedisClusterMigration().statuses(reply) == nil)
    }

    // MARK: - Commands

    @Test func valkeyCommands() {
        let valkey = AtomicMigrationKind.valkeyMigrateSlots.commands
        #expect(valkey is ValkeyMigrateSlots)
        #expect(!valkey.oneAtATime)
        let (address, command) = valkey.start(SlotSet.of(0...10, 20...30, 12500...12500), Recorded.ends)
        #expect(address == "127.0.0.1:21002")
        #expect(command == ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "0", "10", "20", "30", "12500", "12500", "NODE", Recorded.target])
        #expect(valkey.taskId(startReply: .simpleString("OK")) == nil)
        #expect(valkey.reporters(Recorded.ends) == ["127.0.0.1:21004", "127.0.0.1:21002"])
        #expect(valkey.statusCommand == ["CLUSTER", "GETSLOTMIGRATIONS"])
        let cancel = valkey.cancel(taskId: Recorded.job, Recorded.ends)
        #expect(cancel.address == "127.0.0.1:21002")
        #expect(cancel.command == ["CLUSTER", "CANCELSLOTMIGRATIONS"])
    }

    @Test func redisCommands() {
        let redis = AtomicMigrationKind.redisClusterMigration.commands
        #expect(redis is RedisClusterMigration)
        #expect(redis.oneAtATime)
        let (address, command) = redis.start(SlotSet.of(0...1000, 2000...3000), Recorded.ends)
        #expect(address == "127.0.0.1:21004")
        #expect(command == ["CLUSTER", "MIGRATION", "IMPORT", "0", "1000", "2000", "3000"])
        #expect(redis.taskId(startReply: bulk("24cf41718b20f7f05901743dffc40bc9b15db339")) == "24cf41718b20f7f05901743dffc40bc9b15db339")
        #expect(redis.taskId(startReply: .simpleString("OK")) == nil)
        #expect(redis.taskId(startReply: bulk("")) == nil)
        #expect(redis.taskId(startReply: .null) == nil)
        #expect(redis.reporters(Recorded.ends) == ["127.0.0.1:21004"])
        #expect(redis.statusCommand == ["CLUSTER", "MIGRATION", "STATUS", "ALL"])
        let cancel = redis.cancel(taskId: "24cf41718b20f7f05901743dffc40bc9b15db339", Recorded.ends)
        #expect(cancel.address == "127.0.0.1:21004")
        #expect(cancel.command == ["CLUSTER", "MIGRATION", "CANCEL", "ID", "24cf41718b20f7f05901743dffc40bc9b15db339"])
    }
}
