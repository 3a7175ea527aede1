import ClusterModel
import Foundation
import Testing

struct TopologyBuilderTests {
    static let m6381 = "e9f6799de802f01ef0a001e02f7fc63b76ec003b"
    static let m6382 = "d38ee9755d159524733c8cdadf142ef641deb1c5"
    static let m6383 = "587a8c64afbe43f080aa2ae7cd293c07fb08713b"
    static let r6384 = "0a70839c1edb064753f820623e7ab17e9fd19992"
    static let r6385 = "7dc5673f6f5cdd652395f1dfa7c399c6366ac88e"
    static let r6386 = "0ee0471c589de48408ff0d3eb897b0daa04b1f77"

    @Test("the seed's fresh 3/3 cluster, every node reachable, passes every check")
    func healthyThreeByThree() throws {
        let topology = TopologyBuilder.build(try ObservationFactory.everyone(SeedFixtures.s001Created))
        #expect(topology.nodes.map(\.address) == [
            "127.0.0.1:6381", "127.0.0.1:6386", "127.0.0.1:6382", "127.0.0.1:6384", "127.0.0.1:6383", "127.0.0.1:6385",
        ])
        #expect(topology.masters.map(\.slotCount) == [5461, 5462, 5461])
        #expect(topology.masters.map(\.replicas) == [[Self.r6386], [Self.r6384], [Self.r6385]])
        let replica = try #require(topology.node(id: Self.r6384))
        #expect(replica.role == "replica" && replica.masterId == Self.m6382 && replica.slots.isEmpty)
        #expect(replica.replicas.isEmpty)
        #expect(topology.nodes.allSatisfy { $0.reachable && $0.error == nil && $0.clusterState == "ok" })
        #expect(topology.nodes.allSatisfy { !$0.flags.contains("myself") })
        #expect(topology.nodes.allSatisfy { $0.importing == nil && $0.migrating == nil })
        let checks = topology.checks
        #expect(checks.ok)
        #expect(checks.slotsCovered && checks.uncoveredSlots.isEmpty)
        #expect(checks.nodesAgree && checks.disagreements.isEmpty)
        #expect(checks.openSlots.isEmpty && checks.failingNodes.isEmpty && checks.possiblyFailingNodes.isEmpty)
        #expect(checks.mastersWithoutReplicas.isEmpty && checks.unreachableNodes.isEmpty)
        #expect(checks.messages == [
            "[OK] All nodes agree about slots configuration.",
            "[OK] All 16384 slots covered.",
        ])
        #expect(topology.summary == ClusterTopology.Summary(masters: 3, replicas: 3, keys: 0, slotsAssigned: 16384))
    }

    @Test("a single reachable view is enough to see the whole membership")
    func singleView() throws {
        let observation = try ObservationFactory.observation(SeedFixtures.s001Created, from: "127.0.0.1:6381", keys: 1)
        let topology = TopologyBuilder.build([observation])
        #expect(topology.nodes.count == 6)
        #expect(topology.nodes.filter(\.reachable).map(\.id) == [Self.m6381])
        #expect(topology.node(id: Self.m6381)?.keys == 1)
        #expect(topology.node(id: Self.m6382)?.keys == nil)
        #expect(topology.checks.ok)
        #expect(topology.summary.keys == 1)
    }

    @Test("seed 001 failover: 6381 is master,fail and 6386 took over its slots")
    func failoverView() throws {
        let down = "127.0.0.1:6381"
        let topology = TopologyBuilder.build(try ObservationFactory.everyone(SeedFixtures.s001Failover, except: [down]))
        let failed = try #require(topology.node(id: Self.m6381))
        #expect(!failed.reachable)
        #expect(failed.error == "Connection refused")
        #expect(failed.flags == ["master", "fail"])
        #expect(failed.linkState == "disconnected")
        #expect(failed.slots.isEmpty && failed.role == "master")
        let promoted = try #require(topology.node(id: Self.r6386))
        #expect(promoted.role == "master" && promoted.slots == SlotSet(ranges: [0...5460]) && promoted.configEpoch == 7)
        // Masters by first slot; the slotless failed master comes after those with slots.
        #expect(topology.nodes.map(\.address) == [
            "127.0.0.1:6386", "127.0.0.1:6382", "127.0.0.1:6384", "127.0.0.1:6383", "127.0.0.1:6385", "127.0.0.1:6381",
        ])
        let checks = topology.checks
        #expect(!checks.ok)
        #expect(checks.slotsCovered)
        #expect(checks.nodesAgree)
        #expect(checks.failingNodes == [down])
        #expect(checks.unreachableNodes == [down])
        #expect(checks.mastersWithoutReplicas == ["127.0.0.1:6386"])
        #expect(checks.messages == [
            "[OK] All nodes agree about slots configuration.",
            "[OK] All 16384 slots covered.",
            "[ERR] Node 127.0.0.1:6381 is flagged as failing.",
            "[WARNING] Master 127.0.0.1:6386 has no replicas.",
            "[ERR] Node 127.0.0.1:6381 is unreachable.",
        ])
        #expect(topology.summary == ClusterTopology.Summary(masters: 4, replicas: 2, keys: 0, slotsAssigned: 16384))
    }

    @Test("seed 001: the old master comes back as a replica of the promoted one")
    func oldMasterBackAsReplica() throws {
        let topology = TopologyBuilder.build(try ObservationFactory.everyone(SeedFixtures.s001OldMasterBack))
        #expect(topology.node(id: Self.m6381)?.role == "replica")
        #expect(topology.node(id: Self.m6381)?.masterId == Self.r6386)
        #expect(topology.node(id: Self.r6386)?.replicas == [Self.m6381])
        #expect(topology.checks.ok)
    }

    @Test("seed 002: master and its replica both down leaves slots uncovered")
    func masterAndReplicaDown() throws {
        let text = SeedFixtures.s002MasterAndReplicaDown
        let observations = try ObservationFactory.everyone(text, except: ["192.168.0.4:6382", "192.168.0.4:6386"])
        let topology = TopologyBuilder.build(observations)
        let checks = topology.checks
        #expect(!checks.ok)
        #expect(!checks.slotsCovered)
        #expect(checks.uncoveredSlots == SlotSet(ranges: [5461...10922]))
        #expect(checks.failingNodes == ["192.168.0.4:6382", "192.168.0.4:6386"])
        #expect(checks.messages.contains("[ERR] Not all 16384 slots are covered by nodes."))
        // The failed master still owns its slots in everyone's view.
        #expect(topology.node(id: "1dbe18a4d676ec4ff9dc8d2bf5766060f8476801")?.slotCount == 5462)
        #expect(topology.summary.slotsAssigned == 16384)
    }

    @Test("seed 002: four masters of 4096 slots each, each with a replica")
    func fourMasters() throws {
        let topology = TopologyBuilder.build(try ObservationFactory.everyone(SeedFixtures.s002FourMasters))
        #expect(topology.masters.map(\.address) == [
            "192.168.0.4:6387", "192.168.0.4:6381", "192.168.0.4:6382", "192.168.0.4:6383",
        ])
        #expect(topology.masters.allSatisfy { $0.slotCount == 4096 && $0.replicas.count == 1 })
        #expect(topology.checks.ok)
        #expect(topology.summary == ClusterTopology.Summary(masters: 4, replicas: 4, keys: 0, slotsAssigned: 16384))
    }

    @Test("seed 003: a forgotten master leaves a replica of nobody and a third of the slots uncovered")
    func forgottenMaster() throws {
        let observation = try ObservationFactory.observation(
            SeedFixtures.s003MasterForgotten, from: "127.0.0.1:9002", clusterState: "fail")
        let topology = TopologyBuilder.build([observation])
        #expect(topology.checks.uncoveredSlots == SlotSet(ranges: [0...5460]))
        #expect(!topology.checks.ok)
        #expect(topology.node(id: "2a4c6b918e1ab5975541b0a1569c384833826ae7")?.clusterState == "fail")
        // The orphan replica is listed after every master group.
        #expect(topology.nodes.last?.address == "127.0.0.1:9001")
        #expect(topology.nodes.last?.masterId == nil)
    }

    @Test("seed 003: empty masters are listed after masters with slots and do not need replicas")
    func emptyMasters() throws {
        let topology = TopologyBuilder.build(try ObservationFactory.everyone(SeedFixtures.s003AddedReplica))
        #expect(topology.masters.map(\.address) == [
            "127.0.0.1:9004", "127.0.0.1:9002", "127.0.0.1:9003", "127.0.0.1:9007", "127.0.0.1:9008",
        ])
        #expect(topology.node(id: "245c19be72937eb076d45101717947fd31ed7693")?.replicas
            == ["12dc34cddbaa43e3171072bf7bfcd8b7f5787222"])
        #expect(topology.checks.mastersWithoutReplicas.isEmpty)
        #expect(topology.checks.ok)
    }

    @Test("an interrupted reshard shows up as open slots on both sides")
    func openSlots() throws {
        let d = "bded87e6083159198b9159c40a9c8804e744df13"
        var observations = try ObservationFactory.everyone(SeedFixtures.s001Created)
        let source = try #require(observations.firstIndex { $0.address == "127.0.0.1:6382" })
        let text = SeedFixtures.s001Created
            .replacingOccurrences(of: "connected 5461-10922", with: "connected 5461-10922 [5461->-\(d)]")
        observations[source] = try ObservationFactory.observation(text, from: "127.0.0.1:6382")
        let target = try #require(observations.firstIndex { $0.address == "127.0.0.1:6381" })
        let targetText = SeedFixtures.s001Created
            .replacingOccurrences(of: "connected 0-5460", with: "connected 0-5460 [5461-<-\(Self.m6382)]")
        observations[target] = try ObservationFactory.observation(targetText, from: "127.0.0.1:6381")
        let topology = TopologyBuilder.build(observations)
        #expect(topology.node(id: Self.m6382)?.migrating == [5461: d])
        #expect(topology.node(id: Self.m6381)?.importing == [5461: Self.m6382])
        let checks = topology.checks
        #expect(!checks.ok)
        #expect(checks.nodesAgree)
        #expect(checks.openSlots == [
            OpenSlot(slot: 5461, node: Self.m6381, address: "127.0.0.1:6381", state: "importing", peer: Self.m6382),
            OpenSlot(slot: 5461, node: Self.m6382, address: "127.0.0.1:6382", state: "migrating", peer: d),
        ])
        #expect(checks.messages == [
            "[OK] All nodes agree about slots configuration.",
            "[WARNING] Node 127.0.0.1:6381 has slots in importing state 5461.",
            "[WARNING] Node 127.0.0.1:6382 has slots in migrating state 5461.",
            "[WARNING] The following slots are open: 5461.",
            "[OK] All 16384 slots covered.",
        ])
    }

    @Test("two nodes that disagree about who owns which slots")
    func disagreement() throws {
        // 6381 still has the pre-reshard view while 6382 already sees the 3→4 result.
        let before = try ObservationFactory.observation(SeedFixtures.s001Created, from: "127.0.0.1:6381")
        let after = """
            e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 1 1 connected 1365-5460
            d38ee9755d159524733c8cdadf142ef641deb1c5 127.0.0.1:6382@16382 myself,master - 0 1 2 connected 6827-10922
            587a8c64afbe43f080aa2ae7cd293c07fb08713b 127.0.0.1:6383@16383 master - 0 1 3 connected 12288-16383
            bded87e6083159198b9159c40a9c8804e744df13 127.0.0.1:6387@16387 master - 0 1 9 connected 0-1364 5461-6826 10923-12287
            """
        let topology = TopologyBuilder.build([before, try ObservationFactory.observation(after, from: "127.0.0.1:6382")])
        let checks = topology.checks
        #expect(!checks.nodesAgree && !checks.ok)
        #expect(checks.messages.first == "[ERR] Nodes don't agree about configuration!")
        #expect(checks.disagreements == [
            "127.0.0.1:6382 sees 127.0.0.1:6383 (587a8c64) owning 12288-16383 (4096 slots), "
                + "but 127.0.0.1:6381 sees it owning 10923-16383 (5461 slots).",
            "127.0.0.1:6382 sees 127.0.0.1:6387 (bded87e6) owning 0-1364,5461-6826,10923-12287 (4096 slots), "
                + "but 127.0.0.1:6381 sees it owning no slots.",
            "127.0.0.1:6382 sees 127.0.0.1:6382 (d38ee975) owning 6827-10922 (4096 slots), "
                + "but 127.0.0.1:6381 sees it owning 5461-10922 (5462 slots).",
            "127.0.0.1:6382 sees 127.0.0.1:6381 (e9f6799d) owning 1365-5460 (4096 slots), "
                + "but 127.0.0.1:6381 sees it owning 0-5460 (5461 slots).",
        ])
        // Each reachable node is authoritative for itself.
        #expect(topology.node(id: Self.m6381)?.slots == SlotSet(ranges: [0...5460]))
        #expect(topology.node(id: Self.m6382)?.slots == SlotSet(ranges: [6827...10922]))
    }

    @Test("an unreachable node's data comes from the majority of the other views")
    func majorityForUnreachable() throws {
        let stale = """
            e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 myself,master - 0 1 1 connected 0-5460
            d38ee9755d159524733c8cdadf142ef641deb1c5 127.0.0.1:6382@16382 master - 0 1 2 connected 5461-10922
            587a8c64afbe43f080aa2ae7cd293c07fb08713b 127.0.0.1:6383@16383 master - 0 1 3 connected 10923-16383
            """
        let fresh = stale.replacingOccurrences(of: "2 connected 5461-10922", with: "2 connected 5461-10921")
            .replacingOccurrences(of: "3 connected 10923-16383", with: "3 connected 10922-16383")
        let observations = [
            try ObservationFactory.observation(stale, from: "127.0.0.1:6381"),
            try ObservationFactory.observation(fresh, from: "127.0.0.1:6382"),
            try ObservationFactory.observation(fresh, from: "127.0.0.1:6383"),
        ]
        let others = [observations[0], NodeObservation(address: "127.0.0.1:6382", nodes: nil, error: "timeout"),
                      observations[2]]
        let topology = TopologyBuilder.build(others)
        // 6382 is down: 6381 says 5461-10922, 6383 says 5461-10921; a tie goes to the first view seen.
        #expect(topology.node(id: Self.m6382)?.slots == SlotSet(ranges: [5461...10922]))
        #expect(topology.node(id: Self.m6382)?.error == "timeout")
        #expect(topology.checks.unreachableNodes == ["127.0.0.1:6382"])
        // A second fresh view breaks the tie.
        let outvoted = TopologyBuilder.build(others + [observations[2]])
        #expect(outvoted.node(id: Self.m6382)?.slots == SlotSet(ranges: [5461...10921]))
        #expect(outvoted.node(id: Self.m6382)?.reachable == false)
    }

    @Test("fail? flags are reported separately; handshake and noaddr junk are ignored")
    func possiblyFailingAndJunk() throws {
        let text = """
            e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 myself,master - 0 1 1 connected 0-16383
            d38ee9755d159524733c8cdadf142ef641deb1c5 127.0.0.1:6382@16382 slave,fail? e9f6799de802f01ef0a001e02f7fc63b76ec003b 5 1 1 connected
            7dc5673f6f5cdd652395f1dfa7c399c6366ac88e 127.0.0.1:6390@16390 handshake - 0 0 0 connected
            0ee0471c589de48408ff0d3eb897b0daa04b1f77 :0@0 master,fail,noaddr - 0 0 0 disconnected
            """
        let topology = TopologyBuilder.build([try ObservationFactory.observation(text, from: "127.0.0.1:6381")])
        #expect(topology.nodes.map(\.address) == ["127.0.0.1:6381", "127.0.0.1:6382"])
        #expect(topology.checks.possiblyFailingNodes == ["127.0.0.1:6382"])
        #expect(topology.checks.failingNodes == ["0ee0471c589de48408ff0d3eb897b0daa04b1f77"])
        #expect(topology.checks.messages.contains("[WARNING] Node 127.0.0.1:6382 is possibly failing."))
        #expect(!topology.checks.ok)
    }

    @Test func nothingReachable() {
        let topology = TopologyBuilder.build([
            NodeObservation(address: "10.0.0.1:6379", nodes: nil, error: "refused"),
            NodeObservation(address: "10.0.0.1:6379", nodes: nil, error: "refused"),
        ])
        #expect(topology.nodes.isEmpty)
        #expect(topology.checks.unreachableNodes == ["10.0.0.1:6379"])
        #expect(topology.checks.uncoveredSlots == .all)
        #expect(!topology.checks.ok)
        #expect(topology.summary == ClusterTopology.Summary(masters: 0, replicas: 0, keys: 0, slotsAssigned: 0))
    }

    @Test("JSON uses snake_case keys and slot/node pairs for open slots")
    func encodesForTheAPI() throws {
        var observations = try ObservationFactory.everyone(SeedFixtures.s001Created)
        let text = SeedFixtures.s001Created
            .replacingOccurrences(of: "connected 0-5460", with: "connected 0-5460 [5461-<-\(Self.m6382)]")
        observations[0] = try ObservationFactory.observation(text, from: "127.0.0.1:6381")
        let topology = TopologyBuilder.build(observations)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(topology)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"slot_count\":5461"))
        #expect(json.contains("\"master_id\":\"\(Self.m6382)\""))
        #expect(json.contains("\"importing\":[{\"node\":\"\(Self.m6382)\",\"slot\":5461}]"))
        #expect(json.contains("\"uncovered_slots\":[]"))
        #expect(json.contains("\"slots_assigned\":16384"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(ClusterTopology.self, from: data) == topology)
    }
}
