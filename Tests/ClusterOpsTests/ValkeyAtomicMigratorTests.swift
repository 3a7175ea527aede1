@testable import ClusterOps
import ClusterModel
import RESP
import Testing

/// The cluster of the Valkey 9.1.2 probe (FINDINGS §2b): 21002 owns 5461-10922 and gives slots to the empty
/// master 21004. Every reply is in the format the servers sent.
enum ValkeyCluster {
    static let i1 = "75c78d28b0b44f59ab2c3c473a873c6b138c7518"
    static let source = "021f7f5b4254b68afb9e75f05c99a4fac7c594c9"
    static let i3 = "04ff7269d7a25cabdfbcd967828d01448d63c454"
    static let target = "9f4d982bc7a70a1b39aab1341bc9af607a2fbf74"
    static let i5 = "95fd2e79564ca7cb3aa34bb67967ce5d65847b96"
    static let i1Address = "127.0.0.1:21001"
    static let sourceAddress = "127.0.0.1:21002"
    static let targetAddress = "127.0.0.1:21004"
    static let ends = MigrationEnds(source: source, sourceAddress: sourceAddress, target: target, targetAddress: targetAddress)

    static let nodes = ["CLUSTER", "NODES"]
    static let migrate = ["CLUSTER", "MIGRATESLOTS"]
    static let cancel = ["CLUSTER", "CANCELSLOTMIGRATIONS"]
    static let getLog = ValkeyLog.command

    /// The planned move: two ranges, one job.
    static let slots = SlotSet.of(5461...5560, 6000...6010)
    static let slotsText = "5461-5560 6000-6010"
    static let move = AtomicSlotMigrator.Move(ends: ends, slots: slots)
    static let migrateCommand = ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "5461", "5560", "6000", "6010", "NODE", target]
    /// Keys in the planned slots: 17 + 3 + 10.
    static let keys = 30

    // Job names, 40 hex characters as the source generates them.
    static let job = "76a5e27cd99002fd26e204c575848bebd6038231"
    static let oldCancelled = "b0e519f4a1c2d3e4f5061728394a5b6c7d8e9f01"
    static let oldImport = "d990b9f5b6a7c8d9e0f1a2b3c4d5e6f708192a3b"

    static let handshakeImported = "Received error during handshake to target: -ERR Slots are being manually imported\r\n"
    static let handshakeReplica = "Received error during handshake to target: -ERR Slot migration can only be used on primary nodes.\r\n"
    static let lostSource = "Connection lost to source. Check CLUSTER GETSLOTMIGRATIONS on the source node for more information."

    static func export(_ state: String, name: String = job, slots: String = slotsText, to target: String = target,
                       message: String = "") -> RESPValue {
        ValkeyLog.entry(name, "EXPORT", slots: slots, target: target, source: source, state: state, message: message)
    }

    static func `import`(_ state: String, name: String = job, slots: String = slotsText, message: String = "") -> RESPValue {
        ValkeyLog.entry(name, "IMPORT", slots: slots, target: target, source: source, state: state, message: message)
    }

    /// What the source listed before this run: an earlier cancelled job of the same slots to the same target, and
    /// an old import of other slots into the source.
    static let sourceHistory = [
        export("cancelled", name: oldCancelled),
        ValkeyLog.entry(oldImport, "IMPORT", slots: "9501-9600", target: source, source: i1, state: "success"),
    ]
    static let targetHistory = [`import`("failed", name: oldCancelled, message: lostSource)]

    static func lines(source sourceSlots: String, target targetSlots: String, sourceIsReplica: Bool = false) -> [NodeLine] {
        [
            sourceIsReplica ? .replica(source, 21002, of: target, epoch: 9) : .master(source, 21002, epoch: 2, sourceSlots),
            .master(i1, 21001, epoch: 1, "0-5460"),
            .master(target, 21004, epoch: targetSlots.isEmpty ? 0 : 9, targetSlots),
            .master(i3, 21003, epoch: 3, "10923-16383"),
            .replica(i5, 21005, of: i3, epoch: 3),
        ]
    }

    static func owners(_ io: ScriptedNodeIO, source sourceSlots: String, target targetSlots: String,
                       sourceIsReplica: Bool = false) {
        let view = lines(source: sourceSlots, target: targetSlots, sourceIsReplica: sourceIsReplica)
        io.script(sourceAddress, nodes, clusterNodes(myself: source, view))
        io.script(targetAddress, nodes, clusterNodes(myself: target, view))
    }

    /// Ownership once the planned slots have moved.
    static func moved(_ io: ScriptedNodeIO) {
        owners(io, source: "5561-5999 6011-10922", target: "5461-5560 6000-6010")
    }

    /// The cluster before the move, with its history and +OK for the planned MIGRATESLOTS.
    static func cluster() -> ScriptedNodeIO {
        let io = ScriptedNodeIO()
        owners(io, source: "5461-10922", target: "")
        io.keysInSlot[sourceAddress] = [5461: 17, 5500: 3, 5570: 5, 6005: 10, 7000: 99]
        io.script(sourceAddress, getLog, ValkeyLog.log(sourceHistory))
        io.script(targetAddress, getLog, ValkeyLog.log(targetHistory))
        io.script(sourceAddress, migrateCommand, .simpleString("OK"))
        io.script(sourceAddress, cancel, .simpleString("OK"))
        return io
    }

    /// After MIGRATESLOTS, the job runs through the states the probe saw and succeeds; ownership flips with the
    /// target's `success`.
    static func succeed(_ io: ScriptedNodeIO, name: String = job, before sourceLog: [RESPValue] = sourceHistory,
                        targetLog: [RESPValue] = targetHistory) {
        io.script(sourceAddress, getLog, [
            .success(ValkeyLog.log([export("snapshotting", name: name)] + sourceLog)),
            .success(ValkeyLog.log([export("success", name: name)] + sourceLog)),
        ])
        io.script(targetAddress, getLog, [
            .success(ValkeyLog.log([`import`("receiving-snapshot", name: name)] + targetLog)),
            .success(ValkeyLog.log([`import`("success", name: name)] + targetLog)),
        ], whenLastServed: moved)
    }

    static func migrator(_ io: ScriptedNodeIO, _ observer: RecordingObserver, attempts: Int = 3,
                         backoff: Double = 1) -> AtomicSlotMigrator {
        AtomicSlotMigrator(commands: ValkeyMigrateSlots(), io: io, observer: observer, attempts: attempts, backoff: backoff)
    }
}

@Suite struct ValkeyAtomicMigratorTests {
    typealias V = ValkeyCluster

    @Test func startsOnTheSourceFollowsTheNewJobAndCompletesOnceTheTargetOwnsTheSlots() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.after(V.sourceAddress, V.migrate) { io, _ in
            io.script(V.sourceAddress, V.getLog, [
                // A read taken before the new job shows: the earlier cancelled job of the same slots must not pass for it.
                .success(ValkeyLog.log(V.sourceHistory)),
                .success(ValkeyLog.log([V.export("waiting-to-snapshot")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("snapshotting")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("failover-granted")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("success")] + V.sourceHistory)),
            ])
            io.script(V.targetAddress, V.getLog, [
                .success(ValkeyLog.log(V.targetHistory)),
                .success(ValkeyLog.log(V.targetHistory)),
                .success(ValkeyLog.log([V.import("receiving-snapshot")] + V.targetHistory)),
                .success(ValkeyLog.log([V.import("receiving-snapshot")] + V.targetHistory)),
                .success(ValkeyLog.log([V.import("success")] + V.targetHistory)),
            ], whenLastServed: V.moved)
        }

        let result = try V.migrator(io, observer).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        let starts = io.sent(V.migrate)
        #expect(starts.map(\.address) == [V.sourceAddress])
        #expect(starts.map(\.command) == [V.migrateCommand])
        // The target is only read: nothing but CLUSTER NODES and GETSLOTMIGRATIONS goes there.
        #expect(io.sent([], to: V.targetAddress).allSatisfy { $0.command == V.nodes || $0.command == V.getLog })
        // Keys are counted once, on the source, for exactly the planned slots.
        let counted = io.sent(["CLUSTER", "COUNTKEYSINSLOT"])
        #expect(counted.allSatisfy { $0.address == V.sourceAddress })
        #expect(counted.map { Int($0.command[2])! } == V.slots.slots)
        #expect(observer.moved == [.init(count: 111, keys: V.keys)])
        let route = "127.0.0.1:21002 → 127.0.0.1:21004"
        #expect(observer.steps == [
            "migration 76a5e27c of 111 slots \(route): waiting-to-snapshot",
            "migration 76a5e27c of 111 slots \(route): receiving-snapshot",
            "migration 76a5e27c of 111 slots \(route): success",
        ])
        // Each state the migration went through is also in the audit log, the final one as the "moved" line.
        #expect(observer.events(containing: "migration 76a5e27c of 111 slots").map(\.message) == [
            "migration 76a5e27c of 111 slots \(route): waiting-to-snapshot",
            "migration 76a5e27c of 111 slots \(route): receiving-snapshot",
        ])
        #expect(observer.events(containing: "CLUSTER MIGRATESLOTS started: 111 slots (5461-5560,6000-6010), 30 keys, \(route)")
            .map(\.node) == [V.sourceAddress])
        #expect(observer.events(containing: "moved 111 slots (5461-5560,6000-6010) with 30 keys \(route) by CLUSTER MIGRATESLOTS in 0.10 s")
            .map(\.node) == [V.targetAddress])
        #expect(observer.events(containing: "failed").isEmpty)
        #expect(observer.events(containing: "(attempt").isEmpty)
        #expect(io.sent(V.cancel).isEmpty)
        #expect(io.unscripted.isEmpty)
        // Success was taken from the target's report, and ownership read after it.
        #expect(io.reachedLast(V.targetAddress, V.getLog))
        let lastNodes = try #require(io.calls.lastIndex { $0.address == V.targetAddress && $0.command == V.nodes })
        let success = try #require(io.calls.lastIndex { $0.address == V.targetAddress && $0.command == V.getLog })
        #expect(lastNodes > success)
    }

    @Test func aSuccessTheTargetsClusterNodesDoesNotConfirmIsNotCounted() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.after(V.sourceAddress, V.migrate) { io, _ in
            io.script(V.sourceAddress, V.getLog, ValkeyLog.log([V.export("success")] + V.sourceHistory))
            io.script(V.targetAddress, V.getLog, ValkeyLog.log([V.import("success")] + V.targetHistory))
        }

        let result = try V.migrator(io, observer, attempts: 1).run([V.move])

        #expect(result.outcome == .completed)
        #expect(result.leftovers == [V.move])
        #expect(observer.moved.isEmpty)
        #expect(!observer.events(containing: "reported success but 127.0.0.1:21004 does not own slots 5461-5560,6000-6010").isEmpty)
    }

    /// The source gave up its last slot, became a replica of the target and lost its log (FINDINGS §4): the target's
    /// report is the record.
    @Test(arguments: [
        Reply.success(.array([])),
        errorReply("LOADING Valkey is loading the dataset in memory"),
        Reply.failure(.connectFailed(endpoint: "127.0.0.1:21002", reason: "Connection refused")),
    ])
    func theTargetsReportCompletesTheMoveWhenTheSourcesLogIsGone(vanished: Reply) throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        let all = SlotSet.of(5461...10922)
        let command = ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "5461", "10922", "NODE", V.target]
        io.script(V.sourceAddress, command, .simpleString("OK"))
        io.after(V.sourceAddress, V.migrate) { io, _ in
            io.script(V.sourceAddress, V.getLog, [
                .success(ValkeyLog.log([V.export("snapshotting", slots: "5461-10922")] + V.sourceHistory)),
                vanished,
            ])
            io.script(V.targetAddress, V.getLog, [
                .success(ValkeyLog.log([V.import("receiving-snapshot", slots: "5461-10922")] + V.targetHistory)),
                .success(ValkeyLog.log([V.import("receiving-snapshot", slots: "5461-10922")] + V.targetHistory)),
                .success(ValkeyLog.log([V.import("receiving-snapshot", slots: "5461-10922")] + V.targetHistory)),
                .success(ValkeyLog.log([V.import("success", slots: "5461-10922")] + V.targetHistory)),
            ], whenLastServed: { io in V.owners(io, source: "", target: "5461-10922", sourceIsReplica: true) })
        }

        let result = try V.migrator(io, observer).run([AtomicSlotMigrator.Move(ends: V.ends, slots: all)])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        #expect(io.sent(V.migrate).count == 1)
        #expect(observer.moved == [.init(count: 5462, keys: 17 + 3 + 5 + 10 + 99)])
        #expect(observer.events(containing: "failed").isEmpty)
        // The source's log was read after it vanished, and the run went on until the target's success.
        #expect(io.reachedLast(V.sourceAddress, V.getLog))
        #expect(io.reachedLast(V.targetAddress, V.getLog))
    }

    @Test func aFailedJobIsStartedAgainAfterTheBackoffWithItsMessageTrimmed() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.after(V.sourceAddress, V.migrate) { io, attempt in
            let first = "aa11" + String(repeating: "0", count: 36)
            if attempt == 1 {
                // Valkey keeps the target's "\r\n" in the message; the target never listed the job.
                io.script(V.sourceAddress, V.getLog, [
                    .success(ValkeyLog.log([V.export("waiting-to-snapshot", name: first)] + V.sourceHistory)),
                    .success(ValkeyLog.log([V.export("failed", name: first, message: V.handshakeImported)] + V.sourceHistory)),
                ])
            } else {
                V.succeed(io, before: [V.export("failed", name: first, message: V.handshakeImported)] + V.sourceHistory)
            }
        }

        let result = try V.migrator(io, observer, attempts: 3, backoff: 1).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        let starts = io.sent(V.migrate)
        try #require(starts.count == 2)
        #expect(starts.map(\.command) == [V.migrateCommand, V.migrateCommand])
        let gap = starts[1].time - starts[0].time
        #expect(gap >= 1.0 && gap < 1.2, "restarted \(gap) s after the first start, backoff 1 s")
        let failure = "CLUSTER MIGRATESLOTS of slots 5461-5560,6000-6010 127.0.0.1:21002 → 127.0.0.1:21004 failed "
            + "(failed: Received error during handshake to target: -ERR Slots are being manually imported); "
            + "starting it again in 1.00 s"
        #expect(observer.events.map(\.message).contains(failure))
        #expect(observer.events.allSatisfy { !$0.message.contains("\r") && !$0.message.contains("\n") })
        let started = observer.events(containing: "CLUSTER MIGRATESLOTS started:").map(\.message)
        #expect(started.count == 2)
        #expect(started.first.map { !$0.contains("(attempt") } == true)
        #expect(started.last?.hasSuffix("(attempt 2)") == true)
        #expect(observer.moved == [.init(count: 111, keys: V.keys)])
    }

    @Test func slotsComeBackAsLeftoversAfterEveryAttemptFailed() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.after(V.sourceAddress, V.migrate) { io, attempt in
            let failedJobs = (1...attempt).reversed().map { n in
                V.export("failed", name: "cc\(n)" + String(repeating: "0", count: 37), message: V.handshakeReplica)
            }
            io.script(V.sourceAddress, V.getLog, ValkeyLog.log(failedJobs + V.sourceHistory))
        }

        let result = try V.migrator(io, observer, attempts: 3, backoff: 0.5).run([V.move])

        #expect(result.outcome == .completed)
        #expect(result.leftovers == [V.move])
        let starts = io.sent(V.migrate)
        try #require(starts.count == 3)
        // Backoff doubles: 0.5 s, then 1 s.
        #expect(starts[1].time - starts[0].time >= 0.5)
        #expect(starts[2].time - starts[1].time >= 1.0)
        #expect(starts[2].time - starts[0].time < 1.7)
        #expect(observer.events.map(\.message).contains(
            "CLUSTER MIGRATESLOTS of slots 5461-5560,6000-6010 127.0.0.1:21002 → 127.0.0.1:21004 failed 3 times "
                + "(last: failed: Received error during handshake to target: -ERR Slot migration can only be used on "
                + "primary nodes.); moving these slots key by key instead"))
        #expect(observer.moved.isEmpty)
    }

    @Test func aRefusedStartCountsAsAFailedAttempt() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.script(V.sourceAddress, V.migrateCommand, [errorReply("ERR Slots are being manually migrated"), .success(.simpleString("OK"))])
        io.after(V.sourceAddress, V.migrate) { io, attempt in
            if attempt == 2 { V.succeed(io) }
        }

        let result = try V.migrator(io, observer, attempts: 3, backoff: 1).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        let starts = io.sent(V.migrate)
        try #require(starts.count == 2)
        #expect(starts[1].time - starts[0].time >= 1.0)
        #expect(observer.events.map(\.message).contains(
            "CLUSTER MIGRATESLOTS of slots 5461-5560,6000-6010 127.0.0.1:21002 → 127.0.0.1:21004 failed "
                + "(CLUSTER MIGRATESLOTS refused: ERR Slots are being manually migrated); starting it again in 1.00 s"))
        // Only the accepted start is announced.
        #expect(observer.events(containing: "CLUSTER MIGRATESLOTS started:").map(\.message).allSatisfy { $0.hasSuffix("(attempt 2)") })
        #expect(observer.events(containing: "CLUSTER MIGRATESLOTS started:").count == 1)
        #expect(observer.moved == [.init(count: 111, keys: V.keys)])
    }

    /// The connection broke after MIGRATESLOTS went out: the job may have started, so the logs decide.
    @Test func aStartWhoseReplyWasLostIsFoundInTheLogs() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.script(V.sourceAddress, V.migrateCommand, [.failure(.connectionClosed(endpoint: V.sourceAddress))])
        io.after(V.sourceAddress, V.migrate) { io, _ in V.succeed(io) }

        let result = try V.migrator(io, observer).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        #expect(io.sent(V.migrate).count == 1)
        #expect(observer.events(containing: "no reply to CLUSTER MIGRATESLOTS for slots 5461-5560,6000-6010: "
            + "connection to 127.0.0.1:21002 closed; checking the nodes' logs").count == 1)
        #expect(observer.moved == [.init(count: 111, keys: V.keys)])
    }

    /// The source does not answer the first poll (its main thread is blocked by the snapshot's fork), and the target
    /// still lists an old failed import of the same slots from another master (21003 owned them before), which the
    /// source never listed. That entry is not the job just started: the target listed it before the start.
    @Test func anOldEntryOfAnotherSourceOnTheTargetIsNotTakenForTheNewJob() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        let older = ValkeyLog.entry("0badc0de" + String(repeating: "0", count: 32), "IMPORT", slots: V.slotsText,
                                    target: V.target, source: V.i3, state: "failed", message: V.lostSource)
        io.script(V.targetAddress, V.getLog, ValkeyLog.log(older))
        io.script(V.sourceAddress, V.migrateCommand, [.success(.simpleString("OK")),
                                                      errorReply("ERR Slots are not served by this node.")])
        io.after(V.sourceAddress, V.migrate) { io, attempt in
            guard attempt == 1 else { return }
            io.script(V.sourceAddress, V.getLog, [
                .failure(.timeout(endpoint: V.sourceAddress, operation: "read")),
                .success(ValkeyLog.log([V.export("waiting-to-snapshot")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("snapshotting")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("success")] + V.sourceHistory)),
            ])
            io.script(V.targetAddress, V.getLog, [
                .success(ValkeyLog.log(older)),
                .success(ValkeyLog.log(V.import("receiving-snapshot"), older)),
                .success(ValkeyLog.log(V.import("receiving-snapshot"), older)),
                .success(ValkeyLog.log(V.import("success"), older)),
            ], whenLastServed: V.moved)
        }

        let result = try V.migrator(io, observer, attempts: 3, backoff: 1).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        #expect(io.sent(V.migrate).count == 1)
        #expect(observer.moved == [.init(count: 111, keys: V.keys)])
        #expect(observer.events(containing: "failed").isEmpty)
    }

    @Test func stoppingDuringTheBackoffStartsNothingAndCancelsNothing() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.after(V.sourceAddress, V.migrate) { io, _ in
            io.script(V.sourceAddress, V.getLog, [
                .success(ValkeyLog.log([V.export("failed", message: V.handshakeImported)] + V.sourceHistory)),
            ], whenLastServed: { _ in observer.stop = true })
        }

        let result = try V.migrator(io, observer, attempts: 3, backoff: 1).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .stopped, leftovers: []))
        #expect(io.sent(V.migrate).count == 1)
        #expect(io.sent(V.cancel).isEmpty)
        #expect(observer.events(containing: "starting it again in 1.00 s").count == 1)
    }

    @Test func aStartNoNodeEverListsFailsAfterTheUnseenTimeout() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)

        let result = try V.migrator(io, observer, attempts: 1).run([V.move])

        #expect(result.leftovers == [V.move])
        #expect(io.sent(V.migrate).count == 1)
        #expect(io.now - ScriptedNodeIO.startTime > 5 && io.now - ScriptedNodeIO.startTime < 6)
        #expect(!observer.events(containing: "no node lists the migration 5 s after it was started").isEmpty)
    }

    /// A job resumed after the service was killed: the source's log shows the migration of the planned slots under
    /// way. It is followed, not started a second time.
    @Test func aMigrationAlreadyRunningIsFollowedNotStartedAgain() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.script(V.sourceAddress, V.getLog, [
            .success(ValkeyLog.log([V.export("snapshotting")] + V.sourceHistory)),
            .success(ValkeyLog.log([V.export("snapshotting")] + V.sourceHistory)),
            .success(ValkeyLog.log([V.export("failover-granted")] + V.sourceHistory)),
            .success(ValkeyLog.log([V.export("success")] + V.sourceHistory)),
        ])
        io.script(V.targetAddress, V.getLog, [
            .success(ValkeyLog.log([V.import("receiving-snapshot")] + V.targetHistory)),
            .success(ValkeyLog.log([V.import("receiving-snapshot")] + V.targetHistory)),
            .success(ValkeyLog.log([V.import("receiving-snapshot")] + V.targetHistory)),
            .success(ValkeyLog.log([V.import("success")] + V.targetHistory)),
        ], whenLastServed: V.moved)

        let result = try V.migrator(io, observer).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        #expect(io.sent(V.migrate).isEmpty)
        let following = observer.events(containing: "following it")
        #expect(following.count == 1)
        #expect(following.first?.message.hasPrefix("CLUSTER MIGRATESLOTS \(V.job) of slots 5461-5560,6000-6010 is under way") == true)
        #expect(observer.moved == [.init(count: 111, keys: V.keys)])
        #expect(observer.steps.last == "migration 76a5e27c of 111 slots 127.0.0.1:21002 → 127.0.0.1:21004: success")
    }

    @Test func aResumedJobFollowsTheRunningPartAndStartsOnlyTheRest() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        let planned = SlotSet.of(5461...5600)
        let rest = ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "5561", "5600", "NODE", V.target]
        let second = "ee77" + String(repeating: "0", count: 36)
        io.script(V.sourceAddress, rest, .simpleString("OK"))
        io.script(V.sourceAddress, V.getLog, ValkeyLog.log([V.export("snapshotting", slots: "5461-5560")] + V.sourceHistory))
        io.script(V.targetAddress, V.getLog, ValkeyLog.log([V.import("receiving-snapshot", slots: "5461-5560")] + V.targetHistory))
        io.after(V.sourceAddress, V.migrate) { io, _ in
            io.script(V.sourceAddress, V.getLog, [
                .success(ValkeyLog.log([V.export("waiting-to-snapshot", name: second, slots: "5561-5600"),
                                        V.export("snapshotting", slots: "5461-5560")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("success", name: second, slots: "5561-5600"),
                                        V.export("success", slots: "5461-5560")] + V.sourceHistory)),
            ])
            io.script(V.targetAddress, V.getLog, [
                .success(ValkeyLog.log([V.import("receiving-snapshot", name: second, slots: "5561-5600"),
                                        V.import("receiving-snapshot", slots: "5461-5560")] + V.targetHistory)),
                .success(ValkeyLog.log([V.import("success", name: second, slots: "5561-5600"),
                                        V.import("success", slots: "5461-5560")] + V.targetHistory)),
            ], whenLastServed: { io in V.owners(io, source: "5601-10922", target: "5461-5600") })
        }

        let result = try V.migrator(io, observer).run([AtomicSlotMigrator.Move(ends: V.ends, slots: planned)])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        #expect(io.sent(V.migrate).map(\.command) == [rest])
        #expect(observer.events(containing: "\(V.job) of slots 5461-5560 is under way").count == 1)
        #expect(observer.moved == [.init(count: 100, keys: 17 + 3), .init(count: 40, keys: 5)])
    }

    @Test func stoppingCancelsOnTheSourceAndWaitsUntilTheNodesReportTheEnd() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.after(V.sourceAddress, V.migrate) { io, _ in
            io.script(V.sourceAddress, V.getLog, [
                .success(ValkeyLog.log([V.export("snapshotting")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("snapshotting")] + V.sourceHistory)),
            ], whenLastServed: { _ in observer.stop = true })
            io.script(V.targetAddress, V.getLog, ValkeyLog.log([V.import("receiving-snapshot")] + V.targetHistory))
        }
        io.after(V.sourceAddress, V.cancel) { io, _ in
            io.script(V.sourceAddress, V.getLog, [
                .success(ValkeyLog.log([V.export("snapshotting")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("snapshotting")] + V.sourceHistory)),
                .success(ValkeyLog.log([V.export("cancelled")] + V.sourceHistory)),
            ])
            io.script(V.targetAddress, V.getLog, [
                .success(ValkeyLog.log([V.import("receiving-snapshot")] + V.targetHistory)),
                .success(ValkeyLog.log([V.import("cleaning-up")] + V.targetHistory)),
                .success(ValkeyLog.log([V.import("failed", message: V.lostSource)] + V.targetHistory)),
            ])
        }

        let result = try V.migrator(io, observer).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .stopped, leftovers: []))
        let cancels = io.sent(V.cancel)
        #expect(cancels.map(\.address) == [V.sourceAddress])
        #expect(cancels.map(\.command) == [["CLUSTER", "CANCELSLOTMIGRATIONS"]])
        // Nothing is started after the cancel, and the run waited for the nodes' final states.
        let cancelIndex = try #require(io.index(of: V.cancel, to: V.sourceAddress))
        #expect(io.calls[cancelIndex...].allSatisfy { !$0.command.starts(with: V.migrate) })
        #expect(io.reachedLast(V.sourceAddress, V.getLog))
        #expect(io.reachedLast(V.targetAddress, V.getLog))
        #expect(observer.events(containing: "cancelled the running CLUSTER MIGRATESLOTS").map(\.node) == [V.sourceAddress])
        #expect(observer.moved.isEmpty)
    }

    @Test func slotsThatMovedBeforeTheCancelArrivedAreCounted() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        io.script(V.sourceAddress, V.cancel, [errorReply("ERR No migrations ongoing")])
        io.after(V.sourceAddress, V.migrate) { io, _ in
            io.script(V.sourceAddress, V.getLog, [.success(ValkeyLog.log([V.export("failover-granted")] + V.sourceHistory))],
                      whenLastServed: { _ in observer.stop = true })
            io.script(V.targetAddress, V.getLog, ValkeyLog.log([V.import("failover-granted")] + V.targetHistory))
        }
        io.after(V.sourceAddress, V.cancel) { io, _ in
            io.script(V.sourceAddress, V.getLog, ValkeyLog.log([V.export("success")] + V.sourceHistory))
            io.script(V.targetAddress, V.getLog, [.success(ValkeyLog.log([V.import("success")] + V.targetHistory))],
                      whenLastServed: V.moved)
        }

        let result = try V.migrator(io, observer).run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .stopped, leftovers: []))
        #expect(io.sent(V.cancel).count == 1)
        #expect(observer.moved == [.init(count: 111, keys: V.keys)])
        #expect(observer.events(containing: "111 slots (5461-5560,6000-6010) had already moved to 127.0.0.1:21004 when the cancel arrived")
            .count == 1)
        #expect(observer.events(containing: "could not cancel CLUSTER MIGRATESLOTS on 127.0.0.1:21002").count == 1)
    }

    /// Valkey cancels every export of a source at once: one command for all of that source's migrations.
    @Test func oneCancelPerSourceWhateverTheNumberOfItsMigrations() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        let toI1 = MigrationEnds(source: V.source, sourceAddress: V.sourceAddress, target: V.i1, targetAddress: V.i1Address)
        let first = AtomicSlotMigrator.Move(ends: V.ends, slots: SlotSet.of(5461...5560))
        let second = AtomicSlotMigrator.Move(ends: toI1, slots: SlotSet.of(6000...6010))
        let view = V.lines(source: "5461-10922", target: "")
        io.script(V.i1Address, V.nodes, clusterNodes(myself: V.i1, view))
        io.script(V.i1Address, V.getLog, ValkeyLog.log())
        io.script(V.sourceAddress, ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "5461", "5560", "NODE", V.target], .simpleString("OK"))
        io.script(V.sourceAddress, ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "6000", "6010", "NODE", V.i1], .simpleString("OK"))
        let jobA = "abab" + String(repeating: "0", count: 36)
        let jobB = "cdcd" + String(repeating: "0", count: 36)
        io.after(V.sourceAddress, V.migrate) { io, started in
            guard started == 2 else { return }
            io.script(V.sourceAddress, V.getLog, [
                .success(ValkeyLog.log([V.export("waiting-to-snapshot", name: jobB, slots: "6000-6010", to: V.i1),
                                        V.export("snapshotting", name: jobA, slots: "5461-5560")])),
            ], whenLastServed: { _ in observer.stop = true })
        }
        io.after(V.sourceAddress, V.cancel) { io, _ in
            io.script(V.sourceAddress, V.getLog, ValkeyLog.log([V.export("cancelled", name: jobB, slots: "6000-6010", to: V.i1),
                                                                V.export("cancelled", name: jobA, slots: "5461-5560")]))
        }

        let result = try V.migrator(io, observer).run([first, second])

        #expect(result.outcome == .stopped)
        #expect(io.sent(V.migrate).count == 2)
        #expect(io.sent(V.cancel).map(\.address) == [V.sourceAddress])
        #expect(observer.moved.isEmpty)
    }
}
