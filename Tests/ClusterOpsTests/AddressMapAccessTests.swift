import ClusterModel
import ClusterOps
import RESP
import Testing

struct AddressMapAccessTests {
    let access = ClusterAccess(
        seeds: [RedisEndpoint("10.0.0.5:6379")!], credentials: nil,
        addressMap: AddressMap(nodes: ["10.0.0.5:6379": "127.0.0.1:7001", "127.0.0.1:7002": "192.0.2.7:7002"],
                               rules: [AddressMap.Rule(announced: "10.0.0.0/24", reachable: "127.0.0.1", portOffset: 1000)]))

    @Test("connections go to the mapped address; unmapped ones as announced")
    func dialled() {
        #expect(access.dialled(RedisEndpoint("10.0.0.5:6379")!) == RedisEndpoint("127.0.0.1:7001")!)
        #expect(access.dialled(RedisEndpoint("10.0.0.9:6379")!) == RedisEndpoint("127.0.0.1:7379")!)
        #expect(access.dialled(RedisEndpoint("127.0.0.1:7003")!) == RedisEndpoint("127.0.0.1:7003")!)
        #expect(access.reachableAddress("10.0.0.9:6379") == "127.0.0.1:7379")
        #expect(access.reachableAddress("127.0.0.1:7003") == nil)
    }

    @Test("the loopback rule judges the dialled address: a loopback node mapped elsewhere is refused, a remote one mapped to loopback is not")
    func loopbackRule() {
        #expect(throws: RedisError.self) { try access.checkout(RedisEndpoint("127.0.0.1:7002")!) }
        do {
            _ = try access.checkout(RedisEndpoint("127.0.0.1:7002")!)
        } catch {
            #expect("\(error)".contains("192.0.2.7:7002"))
            #expect("\(error)".contains("remote nodes are not allowed"))
        }
        // 10.0.0.5 is remote, but the map dials loopback: the rule lets it through to the connect itself.
        do {
            access.checkin(try access.checkout(RedisEndpoint("10.0.0.5:1")!))
        } catch {
            #expect(!"\(error)".contains("remote nodes are not allowed"))
        }
    }

    @Test func topologyNodesShowWhereTheyAreDialled() {
        let node = TopologyNode(id: "a", address: "10.0.0.9:6379", role: "master", masterId: nil, slots: SlotSet(), keys: nil,
                                flags: [], linkState: "connected", configEpoch: 1, reachable: true, clusterState: "ok",
                                replicas: [], importing: nil, migrating: nil, error: nil)
        let other = TopologyNode(id: "b", address: "127.0.0.1:7003", role: "master", masterId: nil, slots: SlotSet(), keys: nil,
                                 flags: [], linkState: "connected", configEpoch: 2, reachable: true, clusterState: "ok",
                                 replicas: [], importing: nil, migrating: nil, error: nil)
        let topology = access.withReachableAddresses(TopologyBuilder.build([]))
        #expect(topology.nodes.isEmpty)
        var mapped = topology
        mapped.nodes = [node, other]
        mapped = access.withReachableAddresses(mapped)
        #expect(mapped.nodes[0].reachableAddress == "127.0.0.1:7379")
        #expect(mapped.nodes[0].isNamed("127.0.0.1:7379") && mapped.nodes[0].isNamed("10.0.0.9:6379"))
        #expect(mapped.nodes[1].reachableAddress == nil)
    }
}
