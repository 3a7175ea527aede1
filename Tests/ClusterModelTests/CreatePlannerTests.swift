import ClusterModel
import Foundation
import Testing

struct CreatePlannerTests {
    static let seedNodes = (6381...6386).map { "127.0.0.1:\($0)" }

    @Test("seed 001: six nodes on one host, one replica each")
    func seedCreate() throws {
        let plan = try CreatePlanner.plan(addresses: Self.seedNodes, replicas: 1)
        #expect(plan.masters == [
            CreatePlan.Master(address: "127.0.0.1:6381", slots: SlotSet(ranges: [0...5460])),
            CreatePlan.Master(address: "127.0.0.1:6382", slots: SlotSet(ranges: [5461...10922])),
            CreatePlan.Master(address: "127.0.0.1:6383", slots: SlotSet(ranges: [10923...16383])),
        ])
        // Exactly redis-cli's "Adding replica 127.0.0.1:6385 to 127.0.0.1:6381" lines from the seed.
        #expect(plan.replicas == [
            CreatePlan.Replica(address: "127.0.0.1:6385", masterAddress: "127.0.0.1:6381"),
            CreatePlan.Replica(address: "127.0.0.1:6386", masterAddress: "127.0.0.1:6382"),
            CreatePlan.Replica(address: "127.0.0.1:6384", masterAddress: "127.0.0.1:6383"),
        ])
    }

    @Test("six hosts: every replica lands on another host")
    func distinctHosts() throws {
        let addresses = ["3", "4", "5", "7", "8", "9"].map { "10.0.0.\($0):6379" }
        let plan = try CreatePlanner.plan(addresses: addresses, replicas: 1)
        #expect(plan.masters.map(\.address) == ["10.0.0.3:6379", "10.0.0.4:6379", "10.0.0.5:6379"])
        #expect(plan.replicas == [
            CreatePlan.Replica(address: "10.0.0.8:6379", masterAddress: "10.0.0.3:6379"),
            CreatePlan.Replica(address: "10.0.0.9:6379", masterAddress: "10.0.0.4:6379"),
            CreatePlan.Replica(address: "10.0.0.7:6379", masterAddress: "10.0.0.5:6379"),
        ])
    }

    @Test("two hosts: masters are interleaved and replicas cross hosts")
    func twoHosts() throws {
        let addresses = ["192.168.1.1:7000", "192.168.1.1:7001", "192.168.1.1:7002",
                         "192.168.1.2:7000", "192.168.1.2:7001", "192.168.1.2:7002"]
        let plan = try CreatePlanner.plan(addresses: addresses, replicas: 1)
        #expect(plan.masters.map(\.address) == ["192.168.1.1:7000", "192.168.1.2:7000", "192.168.1.1:7001"])
        #expect(plan.replicas == [
            CreatePlan.Replica(address: "192.168.1.2:7002", masterAddress: "192.168.1.1:7000"),
            CreatePlan.Replica(address: "192.168.1.1:7002", masterAddress: "192.168.1.2:7000"),
            CreatePlan.Replica(address: "192.168.1.2:7001", masterAddress: "192.168.1.1:7001"),
        ])
        for replica in plan.replicas {
            #expect(replica.address.split(separator: ":")[0] != replica.masterAddress.split(separator: ":")[0])
        }
    }

    @Test("the anti-affinity pass fixes a replica left on its master's host")
    func antiAffinity() throws {
        let addresses = ["10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.2:7001", "10.0.0.2:7002",
                         "10.0.0.3:7000", "10.0.0.3:7001"]
        let plan = try CreatePlanner.plan(addresses: addresses, replicas: 1)
        #expect(plan.masters.map(\.address) == ["10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"])
        // First assignment gives 10.0.0.2:7002 to 10.0.0.2:7000; one swap separates them.
        #expect(plan.replicas == [
            CreatePlan.Replica(address: "10.0.0.2:7002", masterAddress: "10.0.0.1:7000"),
            CreatePlan.Replica(address: "10.0.0.3:7001", masterAddress: "10.0.0.2:7000"),
            CreatePlan.Replica(address: "10.0.0.2:7001", masterAddress: "10.0.0.3:7000"),
        ])
    }

    @Test("leftover nodes become extra replicas, one per master per pass")
    func extraReplicas() throws {
        let plan = try CreatePlanner.plan(addresses: (7000...7006).map { "127.0.0.1:\($0)" }, replicas: 1)
        #expect(plan.masters.count == 3)
        #expect(plan.replicas == [
            CreatePlan.Replica(address: "127.0.0.1:7004", masterAddress: "127.0.0.1:7000"),
            CreatePlan.Replica(address: "127.0.0.1:7003", masterAddress: "127.0.0.1:7000"),
            CreatePlan.Replica(address: "127.0.0.1:7005", masterAddress: "127.0.0.1:7001"),
            CreatePlan.Replica(address: "127.0.0.1:7006", masterAddress: "127.0.0.1:7002"),
        ])
    }

    @Test("nodes beyond one extra replica per master stay slotless masters, as in redis-cli")
    func leftoverMaster() throws {
        let plan = try CreatePlanner.plan(addresses: (7000...7018).map { "127.0.0.1:\($0)" }, replicas: 4)
        #expect(plan.masters.count == 4)
        #expect(plan.masters.last == CreatePlan.Master(address: "127.0.0.1:7003", slots: SlotSet()))
        #expect(plan.replicas.count == 15)
        for master in plan.masters.prefix(3) {
            #expect(plan.replicas.filter { $0.masterAddress == master.address }.count == 5)
        }
    }

    @Test("no replicas: three masters")
    func mastersOnly() throws {
        let plan = try CreatePlanner.plan(addresses: ["a:1", "b:1", "c:1"], replicas: 0)
        #expect(plan.masters.map(\.slots.count) == [5461, 5462, 5461])
        #expect(plan.replicas.isEmpty)
    }

    @Test("slot split for other master counts", arguments: [
        (4, [0...4095, 4096...8191, 8192...12287, 12288...16383]),
        (5, [0...3276, 3277...6553, 6554...9829, 9830...13106, 13107...16383]),
    ])
    func split(masters: Int, expected: [ClosedRange<Int>]) throws {
        let plan = try CreatePlanner.plan(addresses: (1...masters).map { "10.0.0.\($0):6379" }, replicas: 0)
        #expect(plan.masters.map(\.slots) == expected.map { SlotSet(ranges: [$0]) })
    }

    @Test("slots always partition the whole space", arguments: 3...40)
    func splitCoversEverything(masters: Int) throws {
        let plan = try CreatePlanner.plan(addresses: (1...masters).map { "h:\($0)" }, replicas: 0)
        let union = plan.masters.reduce(SlotSet()) { $0.union($1.slots) }
        #expect(union == .all)
        #expect(plan.masters.reduce(0) { $0 + $1.slots.count } == 16384)
        let counts = plan.masters.map(\.slots.count)
        #expect(counts.max()! - counts.min()! <= 1)
    }

    @Test("IPv6 hosts are grouped by host")
    func ipv6() throws {
        let addresses = ["[::1]:7000", "[::1]:7001", "[::1]:7002", "[::2]:7000", "[::2]:7001", "[::2]:7002"]
        let plan = try CreatePlanner.plan(addresses: addresses, replicas: 1)
        #expect(plan.masters.map(\.address) == ["[::1]:7000", "[::2]:7000", "[::1]:7001"])
    }

    @Test func errors() {
        #expect(throws: ClusterModelError.tooFewMasters(nodes: 5, replicas: 1)) {
            try CreatePlanner.plan(addresses: Array(Self.seedNodes.prefix(5)), replicas: 1)
        }
        #expect(throws: ClusterModelError.tooFewMasters(nodes: 2, replicas: 0)) {
            try CreatePlanner.plan(addresses: ["a:1", "b:1"], replicas: 0)
        }
        #expect(ClusterModelError.tooFewMasters(nodes: 5, replicas: 1).description.contains("at least 6 nodes"))
        #expect(throws: ClusterModelError.self) {
            try CreatePlanner.plan(addresses: Self.seedNodes, replicas: -1)
        }
        #expect(throws: ClusterModelError.self) {
            try CreatePlanner.plan(addresses: Self.seedNodes + ["localhost"], replicas: 0)
        }
        #expect(throws: ClusterModelError.self) {
            try CreatePlanner.plan(addresses: Self.seedNodes + ["127.0.0.1:6381"], replicas: 0)
        }
        #expect(throws: ClusterModelError.self) {
            try CreatePlanner.plan(addresses: Self.seedNodes + ["127.0.0.1:0"], replicas: 0)
        }
    }

    @Test func encodesWithSnakeCase() throws {
        let plan = try CreatePlanner.plan(addresses: Self.seedNodes, replicas: 1)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(plan), as: UTF8.self)
        #expect(json.hasPrefix("{\"masters\":[{\"address\":\"127.0.0.1:6381\",\"slots\":[[0,5460]]}"))
        #expect(json.contains("{\"address\":\"127.0.0.1:6385\",\"master_address\":\"127.0.0.1:6381\"}"))
    }
}
