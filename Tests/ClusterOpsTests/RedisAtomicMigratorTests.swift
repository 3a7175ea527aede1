@testable import ClusterOps
import ClusterModel
import RESP
import Testing

/// A Redis 8.4 cluster (no binary here: these recorded-format replies are the test of the `CLUSTER MIGRATION` path).
/// 7001 owns 0-5460, 7002 5461-10922, 7003 10923-16383; 7004 is an empty master, the destination.
enum RedisCluster {
    static let a = "3c3a0c74aae0b56170ccb03a76b60cfe7dc1912e"
    static let b = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"
    static let c = "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1"
    static let d = "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f"
    static let aAddress = "127.0.0.1:7001"
    static let bAddress = "127.0.0.1:7002"
    static let dAddress = "127.0.0.1:7004"
    static let fromA = MigrationEnds(source: a, sourceAddress: aAddress, target: d, targetAddress: dAddress)
    static let fromB = MigrationEnds(source: b, sourceAddress: bAddress, target: d, targetAddress: dAddress)
    static let moveA = AtomicSlotMigrator.Move(ends: fromA, slots: SlotSet.of(0...99))
    static let moveB = AtomicSlotMigrator.Move(ends: fromB, slots: SlotSet.of(5461...5560))

    static let nodes = ["CLUSTER", "NODES"]
    static let status = RedisTasks.status
    static let importPrefix = ["CLUSTER", "MIGRATION", "IMPORT"]
    static let importA = ["CLUSTER", "MIGRATION", "IMPORT", "0", "99"]
    static let importB = ["CLUSTER", "MIGRATION", "IMPORT", "5461", "5560"]
    static let cancelPrefix = ["CLUSTER", "MIGRATION", "CANCEL"]

    static let task1 = "24cf41718b20f7f05901743dffc40bc9b15db339"
    static let task2 = "5a1e0c9a3f7b2d4e6c8a0b1d3f5e7a9c2b4d6f80"
    static let task3 = "9e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6e5"
    /// An archived task of the same slots as `moveA` that an operator cancelled long ago.
    static let archived = RedisTasks.task("0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f", slots: "0-99", source: a, dest: d,
                                          state: "canceled", lastError: "Cancelled due to user request (state: none, rdb_channel_state: none)")

    static func taskA(_ id: String, _ state: String, lastError: String = "", retries: Int64 = 0) -> RESPValue {
        RedisTasks.task(id, slots: "0-99", source: a, dest: d, state: state, lastError: lastError, retries: retries)
    }

    static func taskB(_ id: String, _ state: String) -> RESPValue {
        RedisTasks.task(id, slots: "5461-5560", source: b, dest: d, state: state)
    }

    static func owners(_ io: ScriptedNodeIO, a aSlots: String, b bSlots: String, d dSlots: String) {
        let view: [NodeLine] = [
            .master(a, 7001, epoch: 1, aSlots),
            .master(b, 7002, epoch: 2, bSlots),
            .master(c, 7003, epoch: 3, "10923-16383"),
            .master(d, 7004, epoch: dSlots.isEmpty ? 0 : 4, dSlots),
        ]
        for (id, port) in [(a, 7001), (b, 7002), (d, 7004)] {
            io.script("127.0.0.1:\(port)", nodes, clusterNodes(myself: id, view))
        }
    }

    static func cluster() -> ScriptedNodeIO {
        let io = ScriptedNodeIO()
        owners(io, a: "0-5460", b: "5461-10922", d: "")
        io.keysInSlot[aAddress] = [0: 4, 42: 6, 100: 1000]
        io.keysInSlot[bAddress] = [5461: 9]
        io.script(dAddress, status, RedisTasks.list(archived))
        io.script(aAddress, status, RedisTasks.list())
        io.script(bAddress, status, RedisTasks.list())
        io.script(dAddress, importA, bulk(task1))
        io.script(dAddress, importB, bulk(task3))
        return io
    }

    static func migrator(_ io: ScriptedNodeIO, _ observer: RecordingObserver, attempts: Int = 3,
                         backoff: Double = 1) -> AtomicSlotMigrator {
        AtomicSlotMigrator(commands: RedisClusterMigration(), io: io, observer: observer, attempts: attempts, backoff: backoff)
    }

    /// The calls to `address` whose STATUS reply showed task `id` in `state`.
    static func statusCalls(_ io: ScriptedNodeIO, showing id: String, _ phase: AtomicMigrationStatus.Phase) -> [Int] {
        io.calls.indices.filter { index in
            let call = io.calls[index]
            guard call.command == status, case .success(let reply) = call.reply,
                  let tasks = RedisClusterMigration().statuses(reply) else { return false }
            return tasks.contains { $0.id == id && $0.phase == phase }
        }
    }
}

@Suite struct RedisAtomicMigratorTests {
    typealias R = RedisCluster

    @Test func importsOnTheDestinationOneTaskAtATime() throws {
        let io = R.cluster()
        let observer = RecordingObserver(io: io)
        io.after(R.dAddress, R.importPrefix) { io, started in
            if started == 1 {
                io.script(R.dAddress, R.status, [
                    .success(RedisTasks.list(R.taskA(R.task1, "send-handshake"), R.archived)),
                    .success(RedisTasks.list(R.taskA(R.task1, "accumulate-buffer"), R.archived)),
                    .success(RedisTasks.list(R.taskA(R.task1, "streaming-buffer"), R.archived)),
                    .success(RedisTasks.list(R.taskA(R.task1, "completed"), R.archived)),
                ], whenLastServed: { io in R.owners(io, a: "100-5460", b: "5461-10922", d: "0-99") })
            } else {
                io.script(R.dAddress, R.status, [
                    .success(RedisTasks.list(R.taskB(R.task3, "wait-stream-eof"), R.taskA(R.task1, "completed"), R.archived)),
                    .success(RedisTasks.list(R.taskB(R.task3, "completed"), R.taskA(R.task1, "completed"), R.archived)),
                ], whenLastServed: { io in R.owners(io, a: "100-5460", b: "5561-10922", d: "0-99 5461-5560") })
            }
        }

        let result = try R.migrator(io, observer).run([R.moveA, R.moveB])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        let imports = io.sent(R.importPrefix)
        #expect(imports.map(\.address) == [R.dAddress, R.dAddress])
        #expect(imports.map(\.command) == [R.importA, R.importB])
        // The second IMPORT goes out only after the destination reported the first task completed.
        let firstCompleted = try #require(R.statusCalls(io, showing: R.task1, .succeeded).first)
        let secondImport = try #require(io.index(of: R.importPrefix, to: R.dAddress, occurrence: 2))
        #expect(secondImport > firstCompleted)
        // Progress is read from the destination's STATUS ALL.
        #expect(io.sent(R.status, to: R.dAddress).count >= 6)
        #expect(io.sent(["CLUSTER", "MIGRATION", "STATUS"]).allSatisfy { $0.command == ["CLUSTER", "MIGRATION", "STATUS", "ALL"] })
        #expect(io.sent(R.cancelPrefix).isEmpty)
        #expect(observer.moved == [.init(count: 100, keys: 10), .init(count: 100, keys: 9)])
        #expect(observer.steps == [
            "migration 24cf4171 of 100 slots 127.0.0.1:7001 → 127.0.0.1:7004: send-handshake",
            "migration 24cf4171 of 100 slots 127.0.0.1:7001 → 127.0.0.1:7004: accumulate-buffer",
            "migration 24cf4171 of 100 slots 127.0.0.1:7001 → 127.0.0.1:7004: streaming-buffer",
            "migration 24cf4171 of 100 slots 127.0.0.1:7001 → 127.0.0.1:7004: completed",
            "migration 9e8d7c6b of 100 slots 127.0.0.1:7002 → 127.0.0.1:7004: wait-stream-eof",
            "migration 9e8d7c6b of 100 slots 127.0.0.1:7002 → 127.0.0.1:7004: completed",
        ])
        #expect(observer.events(containing: "CLUSTER MIGRATION IMPORT started: 100 slots (0-99), 10 keys, 127.0.0.1:7001 → 127.0.0.1:7004")
            .map(\.node) == [R.dAddress])
        #expect(observer.events(containing: "moved 100 slots (5461-5560) with 9 keys 127.0.0.1:7002 → 127.0.0.1:7004 by CLUSTER MIGRATION IMPORT")
            .count == 1)
        #expect(io.unscripted.isEmpty)
    }

    @Test func aFailedTaskIsCancelledOnTheDestinationAndImportedAgainAfterTheBackoff() throws {
        let io = R.cluster()
        let observer = RecordingObserver(io: io)
        let lastError = "Failed to connect to the source node: Connection refused"
        io.script(R.dAddress, R.importA, [.success(bulk(R.task1)), .success(bulk(R.task2))])
        io.script(R.dAddress, ["CLUSTER", "MIGRATION", "CANCEL", "ID", R.task1], .integer(1))
        io.after(R.dAddress, R.importPrefix) { io, started in
            if started == 1 {
                io.script(R.dAddress, R.status, [
                    .success(RedisTasks.list(R.taskA(R.task1, "connecting"), R.archived)),
                    .success(RedisTasks.list(R.taskA(R.task1, "failed", lastError: lastError, retries: 1), R.archived)),
                ])
            } else {
                io.script(R.dAddress, R.status, [
                    .success(RedisTasks.list(R.taskA(R.task2, "streaming-buffer"), R.taskA(R.task1, "canceled"), R.archived)),
                    .success(RedisTasks.list(R.taskA(R.task2, "completed"), R.taskA(R.task1, "canceled"), R.archived)),
                ], whenLastServed: { io in R.owners(io, a: "100-5460", b: "5461-10922", d: "0-99") })
            }
        }

        let result = try R.migrator(io, observer, attempts: 3, backoff: 1).run([R.moveA])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        let cancels = io.sent(R.cancelPrefix)
        #expect(cancels.map(\.address) == [R.dAddress])
        #expect(cancels.map(\.command) == [["CLUSTER", "MIGRATION", "CANCEL", "ID", R.task1]])
        let imports = io.sent(R.importPrefix)
        try #require(imports.count == 2)
        #expect(imports.map(\.command) == [R.importA, R.importA])
        let firstImport = try #require(io.index(of: R.importPrefix, to: R.dAddress, occurrence: 1))
        let cancel = try #require(io.index(of: R.cancelPrefix, to: R.dAddress))
        let secondImport = try #require(io.index(of: R.importPrefix, to: R.dAddress, occurrence: 2))
        #expect(firstImport < cancel && cancel < secondImport)
        #expect(io.calls[secondImport].time - io.calls[cancel].time >= 1.0)
        #expect(observer.events.map(\.message).contains(
            "CLUSTER MIGRATION IMPORT of slots 0-99 127.0.0.1:7001 → 127.0.0.1:7004 failed (failed: \(lastError)); "
                + "starting it again in 1.00 s"))
        #expect(observer.events(containing: "CLUSTER MIGRATION IMPORT started:").last?.message.hasSuffix("(attempt 2)") == true)
        #expect(observer.moved == [.init(count: 100, keys: 10)])
    }

    @Test func stoppingCancelsTheRunningTaskByIdAndStartsNoOther() throws {
        let io = R.cluster()
        let observer = RecordingObserver(io: io)
        io.script(R.dAddress, ["CLUSTER", "MIGRATION", "CANCEL", "ID", R.task1], .integer(1))
        io.after(R.dAddress, R.importPrefix) { io, _ in
            io.script(R.dAddress, R.status, [
                .success(RedisTasks.list(R.taskA(R.task1, "accumulate-buffer"), R.archived)),
                .success(RedisTasks.list(R.taskA(R.task1, "streaming-buffer"), R.archived)),
            ], whenLastServed: { _ in observer.stop = true })
        }
        io.after(R.dAddress, R.cancelPrefix) { io, _ in
            io.script(R.dAddress, R.status, [
                .success(RedisTasks.list(R.taskA(R.task1, "streaming-buffer"), R.archived)),
                .success(RedisTasks.list(R.taskA(R.task1, "canceled", lastError:
                    "Cancelled due to user request (state: streaming-buffer, rdb_channel_state: streaming)"), R.archived)),
            ])
        }

        let result = try R.migrator(io, observer).run([R.moveA, R.moveB])

        #expect(result == AtomicSlotMigrator.Result(outcome: .stopped, leftovers: []))
        #expect(io.sent(R.cancelPrefix).map(\.command) == [["CLUSTER", "MIGRATION", "CANCEL", "ID", R.task1]])
        #expect(io.sent(R.cancelPrefix).map(\.address) == [R.dAddress])
        #expect(io.sent(R.importPrefix).map(\.command) == [R.importA])
        #expect(io.reachedLast(R.dAddress, R.status))
        #expect(observer.moved.isEmpty)
    }

    /// `canceled` (one L, as Redis spells it) ends the task: a task an operator cancelled is not waited for forever.
    @Test func aTaskCanceledOnTheServerIsFinal() throws {
        let io = R.cluster()
        let observer = RecordingObserver(io: io)
        io.script(R.dAddress, ["CLUSTER", "MIGRATION", "CANCEL", "ID", R.task1], .integer(0))
        io.after(R.dAddress, R.importPrefix) { io, _ in
            io.script(R.dAddress, R.status, [
                .success(RedisTasks.list(R.taskA(R.task1, "send-syncslots"), R.archived)),
                .success(RedisTasks.list(R.taskA(R.task1, "canceled", lastError:
                    "Cancelled due to user request (state: syncslots-reply, rdb_channel_state: none)"), R.archived)),
            ])
        }

        let result = try R.migrator(io, observer, attempts: 1).run([R.moveA])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: [R.moveA]))
        #expect(io.now - ScriptedNodeIO.startTime < 1)
        #expect(observer.events(containing: "failed 1 times (last: canceled: Cancelled due to user request").count == 1)
    }

    @Test func aRefusedImportCountsAsAFailedAttempt() throws {
        let io = R.cluster()
        let observer = RecordingObserver(io: io)
        io.script(R.dAddress, R.importA, [errorReply("ERR another ASM task is already in progress"), .success(bulk(R.task1))])
        io.after(R.dAddress, R.importPrefix) { io, started in
            guard started == 2 else { return }
            io.script(R.dAddress, R.status, [.success(RedisTasks.list(R.taskA(R.task1, "completed"), R.archived))],
                      whenLastServed: { io in R.owners(io, a: "100-5460", b: "5461-10922", d: "0-99") })
        }

        let result = try R.migrator(io, observer, attempts: 2, backoff: 0.5).run([R.moveA])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        let imports = io.sent(R.importPrefix)
        try #require(imports.count == 2)
        #expect(imports[1].time - imports[0].time >= 0.5)
        // A refused start has no task to cancel.
        #expect(io.sent(R.cancelPrefix).isEmpty)
        #expect(observer.events(containing: "(CLUSTER MIGRATION IMPORT refused: ERR another ASM task is already in progress)").count == 1)
        #expect(observer.moved == [.init(count: 100, keys: 10)])
    }
}
