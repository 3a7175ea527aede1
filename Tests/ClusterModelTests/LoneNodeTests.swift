@testable import ClusterModel
import Testing

@Suite struct LoneNodeTests {
    /// A node never met by another reports ":port" for itself; the topology uses the address we reached it at.
    @Test func unmetNodeTakesTheObservedAddress() throws {
        let text = "e9f6799de802f01ef0a001e02f7fc63b76ec003b :7000@17000 myself,master - 0 0 0 connected\n"
        let observation = NodeObservation(address: "127.0.0.1:7000", nodes: try ClusterNodesParser.parse(text),
                                          clusterState: "fail", keys: 0, error: nil)
        let topology = TopologyBuilder.build([observation])
        #expect(topology.nodes.map(\.address) == ["127.0.0.1:7000"])
        #expect(topology.summary.slotsAssigned == 0)
        #expect(!topology.checks.slotsCovered)
    }
}
