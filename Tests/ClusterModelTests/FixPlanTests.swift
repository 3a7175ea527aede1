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

    @Test("a plan stored before down shards existed still decodes, with none; a new one round-trips")
    func codable() throws {
        let old = #"{"continueMigrations":[],"closeSlots":[],"uncoveredSlots":[[0,9]],"unfixable":[]}"#
        let decoded = try JSONDecoder().decode(FixPlan.self, from: Data(old.utf8))
        #expect(decoded.downShards.isEmpty)
        #expect(decoded.uncoveredSlots == SlotSet(ranges: [0...9]))
        let dead: Set = ["127.0.0.1:6381", "127.0.0.1:6386"]
        let (plan, _) = try Self.plan(Self.flagged(dead), down: dead)
        let again = try JSONDecoder().decode(FixPlan.self, from: JSONEncoder().encode(plan))
        #expect(again == plan)
    }
}
