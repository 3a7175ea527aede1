import ClusterModel
import Foundation
import Testing

/// Down-shard detection from real CLUSTER NODES output (seed 001's 3/3 cluster), nodes taken down by leaving
/// their observations out and flagging them as the live nodes would.
struct FixPlanTests {
    typealias Ids = TopologyBuilderTests

    /// Seed 001's cluster as the live nodes see it once `dead` (addresses) have been flagged failing.
    static func flagged(_ dead: Set<String>) -> String {
        SeedFixtures.s001Created.split(separator: "\n").map { line in
            var fields = line.split(separator: " ").map(String.init)
            guard dead.contains(where: { fields[1].hasPrefix($0 + "@") }) else { return String(line) }
            fields[2] = fields[2].replacingOccurrences(of: "myself,", with: "") + ",fail"
            fields[7] = "disconnected"
            return fields.joined(separator: " ")
        }.joined(separator: "\n")
    }

    static func plan(_ text: String, down: Set<String>) throws -> (FixPlan, ClusterTopology) {
        let topology = TopologyBuilder.build(try ObservationFactory.everyone(text, except: down))
        return (FixPlan.make(from: topology), topology)
    }

    @Test("a healthy cluster has nothing to fix and no down shard")
    func healthy() throws {
        let (plan, _) = try Self.plan(SeedFixtures.s001Created, down: [])
        #expect(plan.isEmpty)
        #expect(plan.downShards.isEmpty)
    }

    @Test("a failing master and its only replica, both unreachable: one down shard, its slots not 'uncovered'")
    func masterAndReplicaDown() throws {
        let dead: Set = ["127.0.0.1:6381", "127.0.0.1:6386"]
        let (plan, topology) = try Self.plan(Self.flagged(dead), down: dead)
        // The builder counts a failing master's slots as uncovered, as redis-cli does...
        #expect(topology.checks.uncoveredSlots == SlotSet(ranges: [0...5460]))
        // ...but they are not slots to cover like any other: their keys are on the dead nodes.
        #expect(plan.uncoveredSlots.isEmpty)
        #expect(plan.downShards == [FixPlan.DownShard(slots: SlotSet(ranges: [0...5460]), master: Ids.m6381,
                                                      masterAddress: "127.0.0.1:6381", replicaAddresses: ["127.0.0.1:6386"])])
        #expect(plan.unfixable.isEmpty)
        #expect(!plan.isEmpty)
    }

    @Test("a master killed before anyone flagged it, with no replica answering, is a down shard too")
    func downBeforeFailureDetection() throws {
        let dead: Set = ["127.0.0.1:6382", "127.0.0.1:6384"]
        let (plan, topology) = try Self.plan(SeedFixtures.s001Created, down: dead)
        #expect(topology.checks.uncoveredSlots.isEmpty)
        #expect(plan.downShards.map(\.master) == [Ids.m6382])
        #expect(plan.downShards.first?.slots == SlotSet(ranges: [5461...10922]))
        #expect(plan.downShards.first?.replicaAddresses == ["127.0.0.1:6384"])
    }

    @Test("a dead master whose replica still answers is not down: its slots wait for the failover, not for empty ones")
    func replicaAlive() throws {
        let dead: Set = ["127.0.0.1:6381"]
        let (plan, topology) = try Self.plan(Self.flagged(dead), down: dead)
        #expect(topology.checks.uncoveredSlots == SlotSet(ranges: [0...5460]))
        #expect(plan.downShards.isEmpty)
        #expect(plan.uncoveredSlots.isEmpty)
        #expect(plan.unfixable.count == 1)
        #expect(plan.unfixable.first?.reason.contains("127.0.0.1:6386") == true)
    }

    @Test("after the replica took over (seed 001 failover), the dead old master owns nothing and nothing is down")
    func replicaTookOver() throws {
        let (plan, _) = try Self.plan(SeedFixtures.s001Failover, down: ["127.0.0.1:6381"])
        #expect(plan.downShards.isEmpty)
        #expect(plan.uncoveredSlots.isEmpty)
    }

    @Test("a replica down alone is no down shard")
    func replicaDownAlone() throws {
        let (plan, _) = try Self.plan(SeedFixtures.s001Created, down: ["127.0.0.1:6385"])
        #expect(plan.isEmpty)
    }

    /// `text` with `suffix` appended to the line of the node at `address` (slots or open-slot markers).
    static func appending(_ suffix: String, to address: String, in text: String) -> String {
        text.split(separator: "\n").map { line in
            line.split(separator: " ")[1].hasPrefix(address + "@") ? "\(line) \(suffix)" : String(line)
        }.joined(separator: "\n")
    }

    @Test("a source that failed over mid-move: the target's open slot goes back to the promoted replica, the dead master is forgotten")
    func importingFromAFailedOverMaster() throws {
        // Seed 001 after the failover (6386 took 0-5460 over), with 6382 still importing slot 100 from dead 6381.
        let text = Self.appending("[100-<-\(Ids.m6381)]", to: "127.0.0.1:6382", in: SeedFixtures.s001Failover)
        let (plan, topology) = try Self.plan(text, down: ["127.0.0.1:6381"])
        #expect(topology.checks.openSlots.map(\.slot) == [100])
        #expect(plan.closeSlots == [FixPlan.Close(slot: 100, node: Ids.m6382, owner: Ids.r6386)])
        #expect(plan.forgetNodes == [FixPlan.DeadMember(id: Ids.m6381, address: "127.0.0.1:6381")])
        #expect(plan.downShards.isEmpty && plan.unfixable.isEmpty && plan.uncoveredSlots.isEmpty)
    }

    @Test("the target took the slot but the source still migrates it: keys left on the source go to the new owner")
    func migratingToTheOwner() throws {
        var text = SeedFixtures.s001Created.replacingOccurrences(of: "connected 0-5460", with: "connected 0-99 101-5460")
        text = Self.appending("[100->-\(Ids.m6382)]", to: "127.0.0.1:6381", in: text)
        text = Self.appending("100", to: "127.0.0.1:6382", in: text)
        let (plan, _) = try Self.plan(text, down: [])
        #expect(plan.closeSlots == [FixPlan.Close(slot: 100, node: Ids.m6381, owner: Ids.m6382)])
        #expect(plan.unfixable.isEmpty && plan.continueMigrations.isEmpty && plan.forgetNodes.isEmpty)
    }

    @Test("a node importing from an owner that is down with no replica: no close, the down shard decides the slot")
    func importingFromADownShard() throws {
        let dead: Set = ["127.0.0.1:6381", "127.0.0.1:6386"]
        let text = Self.appending("[100-<-\(Ids.m6381)]", to: "127.0.0.1:6382", in: Self.flagged(dead))
        let (plan, _) = try Self.plan(text, down: dead)
        #expect(plan.closeSlots.isEmpty)
        #expect(plan.downShards.map(\.master) == [Ids.m6381])
        #expect(plan.unfixable.isEmpty)
    }

    @Test("a source migrating to a target that died before its replica took over waits for the failover")
    func migratingToADeadTargetWithALiveReplica() throws {
        let dead: Set = ["127.0.0.1:6382"]
        let text = Self.appending("[100->-\(Ids.m6382)]", to: "127.0.0.1:6381", in: Self.flagged(dead))
        let (plan, _) = try Self.plan(text, down: dead)
        #expect(plan.closeSlots.isEmpty)
        #expect(plan.unfixable.contains { $0.slot == 100 && $0.reason.contains("127.0.0.1:6384") }, "\(plan.unfixable)")
    }

    @Test("a failed replica is forgotten; a node merely unreachable from here, not flagged by the cluster, is not")
    func deadMembers() throws {
        let flagged = try Self.plan(Self.flagged(["127.0.0.1:6385"]), down: ["127.0.0.1:6385"]).0
        #expect(flagged.forgetNodes == [FixPlan.DeadMember(id: Ids.r6385, address: "127.0.0.1:6385")])
        let unflagged = try Self.plan(SeedFixtures.s001Created, down: ["127.0.0.1:6385"]).0
        #expect(unflagged.forgetNodes.isEmpty)
    }

    @Test("a plan stored before down shards existed still decodes, with none; a new one round-trips")
    func codable() throws {
        let old = #"{"continueMigrations":[],"closeSlots":[],"uncoveredSlots":[[0,9]],"unfixable":[]}"#
        let decoded = try JSONDecoder().decode(FixPlan.self, from: Data(old.utf8))
        #expect(decoded.downShards.isEmpty)
        #expect(decoded.forgetNodes.isEmpty)
        #expect(decoded.uncoveredSlots == SlotSet(ranges: [0...9]))
        let dead: Set = ["127.0.0.1:6381", "127.0.0.1:6386"]
        let (plan, _) = try Self.plan(Self.flagged(dead), down: dead)
        let again = try JSONDecoder().decode(FixPlan.self, from: JSONEncoder().encode(plan))
        #expect(again == plan)
    }
}
