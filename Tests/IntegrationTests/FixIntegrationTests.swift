import ClusterModel
import ClusterOps
import Foundation
import RESP
import Testing

/// `fix` driven through ClusterOps against real nodes: it covers first and waits for cluster_state:ok before
/// moving keys, and a shard with no live node is refused unless data loss is accepted.
@Suite(.serialized)
struct FixIntegrationTests {
    typealias Probe = JobOpsProbe

    static func session(_ cluster: TestCluster) -> ClusterSession {
        ClusterSession(access: ClusterAccess(seeds: cluster.nodes.filter(\.isRunning).map { RedisEndpoint($0.address)! },
                                             credentials: nil))
    }

    @Test func uncoveredAndOpenSlotsTogetherAreFixedWithoutLosingAKey() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let (withKey, keyless, open) = (100, 6000, 12000)
        let holder = try Probe.owner(of: withKey, in: cluster)
        let holderId = try Probe.myId(holder)
        let keptKey = Probe.key(inSlot: withKey, "kept")
        #expect(try holder.cli(["SET", keptKey, "kept"]).contains("OK"))

        // An open slot with keys on both sides: two of its four keys already migrated.
        let source = try Probe.owner(of: open, in: cluster)
        let target = cluster.nodes.first { $0.address != source.address }!
        let (sourceId, targetId) = (try Probe.myId(source), try Probe.myId(target))
        let tag = Probe.key(inSlot: open, "open")
        let openKeys = (0..<4).map { "{\(tag)}:\($0)" }
        for key in openKeys { #expect(try source.cli(["SET", key, "value-of-\(key)"]).contains("OK")) }
        #expect(try target.cli(["CLUSTER", "SETSLOT", "\(open)", "IMPORTING", sourceId]).contains("OK"))
        #expect(try source.cli(["CLUSTER", "SETSLOT", "\(open)", "MIGRATING", targetId]).contains("OK"))
        #expect(try source.cli(["MIGRATE", "127.0.0.1", "\(target.port)", "", "0", "5000", "KEYS"] + openKeys.prefix(2)).contains("OK"))
        #expect(try target.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(open)"]).contains("2"))
        // Then two slots lose their owner everywhere, one of them still holding a key on its former owner. A node
        // that let go before the owner did can learn the owner's claim again from its gossip: deleted again until
        // no node sees an owner.
        for node in cluster.nodes {
            #expect(try node.cli(["CLUSTER", "DELSLOTS", "\(withKey)", "\(keyless)"]).contains("OK"))
        }
        #expect(Probe.eventually(10) {
            var unowned = true
            for node in cluster.nodes {
                let claimed = ((try? Probe.ownership(node)) ?? [:]).values.reduce(Set<Int>()) { $0.union($1) }
                let again = [withKey, keyless].filter { claimed.contains($0) }
                if !again.isEmpty {
                    unowned = false
                    _ = try? node.cli(["CLUSTER", "DELSLOTS"] + again.map(String.init))
                }
            }
            return unowned
        }, "the two slots kept an owner")

        let session = Self.session(cluster)
        defer { session.close() }
        var plan = FixPlan.make(from: session.topology().0)
        #expect(Probe.eventually(10) {
            plan = FixPlan.make(from: session.topology().0)
            return plan.uncoveredSlots == SlotSet([withKey, keyless])
        }, "\(plan)")
        #expect(plan.continueMigrations.map(\.slot) == [open])
        #expect(plan.downShards.isEmpty)
        let observer = RecordingObserver()
        try SlotFixer(session: session, options: MigrationOptions(), observer: observer)
            .run(plan, topology: session.topology().0, acceptDataLoss: false)
        try session.waitForConvergence(timeout: 30)

        cluster.expectClean(from: cluster.nodes[0])
        #expect(cluster.openSlotMarkers().isEmpty, "\(cluster.openSlotMarkers())")
        for node in cluster.nodes {
            let owned = try Probe.ownership(node)
            #expect(owned[holderId]?.contains(withKey) == true, "slot \(withKey) must go to the master holding its key")
            #expect(owned[targetId]?.contains(open) == true, "the migration is finished, not undone")
            #expect(owned.values.reduce(0) { $0 + $1.count } == 16384)
        }
        let read = try Probe.cliInput(cluster.nodes[0], ["GET \(keptKey)"] + openKeys.map { "GET \($0)" }, clusterMode: true)
        #expect(read == ["kept"] + openKeys.map { "value-of-\($0)" }, "\(read)")
        // Covering came before moving keys: no MIGRATE ran into a cluster that was down.
        let covering = observer.steps.firstIndex { $0.hasPrefix("covering") }
        let closing = observer.steps.firstIndex { $0 == "closing open slots" }
        #expect(covering != nil && closing != nil && covering! < closing!, "\(observer.steps)")
    }

    @Test func aShardWithNoLiveNodeIsRefusedThenCoveredEmptyOnlyWhenDataLossIsAccepted() throws {
        let cluster = try TestCluster(nodes: 6)
        defer { cluster.stop() }
        try cluster.create(replicas: 1)
        let master = try Probe.owner(of: 0, in: cluster)
        let masterLine = try Probe.myself(master)
        let replica = try cluster.nodes.first { node in try Probe.myself(node).masterId == masterLine.id }!
        let lostSlots = SlotSet(masterLine.slots)
        master.kill()
        replica.kill()
        let live = cluster.nodes.filter(\.isRunning)
        // Wait (bounded) until the survivors have flagged both as failing, as an operator would find them.
        #expect(Probe.eventually(20) {
            live.allSatisfy { node in ((try? node.cli(["CLUSTER", "NODES"])) ?? "").split(separator: "\n")
                .filter { $0.contains("fail") && !$0.contains("fail?") }.count == 2 }
        })

        let session = Self.session(cluster)
        defer { session.close() }
        let topology = session.topology().0
        let plan = FixPlan.make(from: topology)
        #expect(plan.downShards == [FixPlan.DownShard(slots: lostSlots, master: masterLine.id, masterAddress: master.address,
                                                      replicaAddresses: [replica.address])])
        #expect(plan.uncoveredSlots.isEmpty)

        let viewsBefore = try Probe.slotViews(cluster)
        let observer = RecordingObserver()
        let fixer = SlotFixer(session: session, options: MigrationOptions(), observer: observer)
        let refusal = #expect(throws: ClusterOpsError.self) { try fixer.run(plan, topology: topology, acceptDataLoss: false) }
        #expect(refusal == .shardDown(slots: lostSlots, nodes: [master.address, replica.address]))
        #expect(refusal?.code == "shard_down")
        let message = refusal?.description ?? ""
        #expect(message.contains(lostSlots.description) && message.contains(master.address) && message.contains(replica.address))
        #expect(message.contains("accept_data_loss"))
        #expect(try Probe.slotViews(cluster) == viewsBefore)
        #expect(observer.events.isEmpty)

        try fixer.run(plan, topology: topology, acceptDataLoss: true)
        let healed = try session.waitForConvergence(timeout: 30)
        #expect(healed.checks.slotsCovered && healed.checks.failingNodes.isEmpty, "\(healed.checks.messages)")
        for node in live {
            #expect(((try? node.cli(["CLUSTER", "INFO"])) ?? "").contains("cluster_state:ok"))
            let view = try Probe.lines(node)
            #expect(view.count == 4, "\(node.address) still knows the dead nodes")
            #expect(view.filter(\.isMaster).reduce(0) { $0 + $1.slots.count } == 16384)
        }
        let ownersAfter = try Probe.ownership(live[0])

        // The dead master comes back with its old claim; the newer epochs win and it takes nothing back.
        try master.start()
        #expect(Probe.eventually(20) { ((try? Probe.myself(master).slots.isEmpty) ?? false) },
                "the restarted master still claims \(String(describing: try? Probe.myself(master).slots.count)) slots")
        for node in live {
            #expect(try Probe.ownership(node) == ownersAfter, "\(node.address) gave slots back to the restarted master")
            #expect(((try? node.cli(["CLUSTER", "INFO"])) ?? "").contains("cluster_state:ok"))
        }
    }

    /// A target that died mid-move, whose replica took over: the replica holds the keys moved so far in a slot it
    /// does not own (replication carried the keys, not the open state). Fix moves them to the slot's owner, closes
    /// the slot on the source, and forgets the dead node.
    @Test func keysAPromotedReplicaReceivedInASlotOpenTowardsItsDeadMasterGoToTheOwner() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let dead = cluster.nodes[3]
        #expect(try dead.cli(["CLUSTER", "MEET", "127.0.0.1", "\(cluster.nodes[0].port)"]).contains("OK"))
        let members = Array(cluster.nodes.prefix(3))
        #expect(Probe.eventually(20) {
            members.allSatisfy { node in ((try? Probe.lines(node)) ?? []).filter { !$0.flags.contains("handshake") }.count == 4 }
        })
        let slot = 100
        let source = try Probe.owner(of: slot, in: cluster)
        let holder = members.first { $0.address != source.address }!
        let (sourceId, deadId) = (try Probe.myId(source), try Probe.myId(dead))
        #expect(try source.cli(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", deadId]).contains("OK"))
        // What the promoted replica of the dead target would hold: a key of the open slot, without the open state.
        let key = Probe.key(inSlot: slot, "moved")
        try Probe.plantOrphan(on: holder, slot: slot, importingFrom: sourceId, key: key, value: "kept")
        dead.kill()
        #expect(Probe.eventually(20) {
            members.allSatisfy { node in ((try? Probe.lines(node)) ?? []).contains { $0.id == deadId && $0.flags.contains("fail") } }
        })

        let session = Self.session(cluster)
        defer { session.close() }
        let topology = session.topology().0
        let plan = FixPlan.make(from: topology)
        #expect(plan.closeSlots == [FixPlan.Close(slot: slot, node: sourceId, owner: nil)], "\(plan)")
        #expect(plan.forgetNodes.map(\.id) == [deadId])
        let observer = RecordingObserver()
        try SlotFixer(session: session, options: MigrationOptions(), observer: observer).run(plan, topology: topology, acceptDataLoss: false)
        try session.waitForConvergence(timeout: 30)

        cluster.expectSettled(from: source)
        #expect(try holder.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(try Probe.cliInput(source, ["GET \(key)"], clusterMode: true) == ["kept"])
        #expect(observer.events.contains { $0.contains("received before it took over") }, "\(observer.events)")
        for node in members {
            #expect(try !Probe.lines(node).contains { $0.id == deadId }, "\(node.address) still lists the dead node")
        }
    }
}
