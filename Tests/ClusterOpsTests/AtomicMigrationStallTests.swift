import ClusterModel
@testable import ClusterOps
import RESP
import Testing

/// A migration the nodes keep reporting in one state (seen on Valkey 9.1 after a cancel: an import that stays in
/// receiving-snapshot for good) is cancelled after the stall timeout and started again, so a job never waits
/// for ever.
@Suite struct AtomicMigrationStallTests {
    typealias V = ValkeyCluster

    @Test func aMigrationStuckInOneStateIsCancelledAndStartedAgain() throws {
        let io = V.cluster()
        let observer = RecordingObserver(io: io)
        let stuck = "dd11" + String(repeating: "0", count: 36)
        io.after(V.sourceAddress, V.migrate) { io, attempt in
            if attempt == 1 {
                io.script(V.sourceAddress, V.getLog, ValkeyLog.log([V.export("snapshotting", name: stuck)] + V.sourceHistory))
                io.script(V.targetAddress, V.getLog, ValkeyLog.log([V.import("receiving-snapshot", name: stuck)] + V.targetHistory))
            } else {
                V.succeed(io, before: [V.export("cancelled", name: stuck)] + V.sourceHistory)
            }
        }

        let migrator = AtomicSlotMigrator(commands: ValkeyMigrateSlots(), io: io, observer: observer, attempts: 3,
                                          backoff: 1, stallTimeout: 30)
        let result = try migrator.run([V.move])

        #expect(result == AtomicSlotMigrator.Result(outcome: .completed, leftovers: []))
        let cancels = io.sent(V.cancel, to: V.sourceAddress)
        try #require(cancels.count == 1)
        let starts = io.sent(V.migrate)
        try #require(starts.count == 2)
        // Cancelled once 30 s passed with no new state, started again after the 1 s back-off.
        #expect(cancels[0].time - starts[0].time >= 30)
        #expect(starts[1].time - cancels[0].time >= 1)
        #expect(observer.events(containing: "no progress for 30 s in state receiving-snapshot; cancelled it").count == 1)
        #expect(observer.moved == [.init(count: 111, keys: V.keys)])
    }
}
