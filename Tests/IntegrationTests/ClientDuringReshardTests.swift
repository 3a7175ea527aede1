import Foundation
import Testing

/// redis-py, a real cluster client, keeps reading and writing through a reshard: no error reaches it (MOVED and
/// ASK are followed) and no key is lost.
@Suite(.serialized)
struct ClientDuringReshardTests {
    @Test func redisPyClientSeesNoErrorAndLosesNoKey() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let seeds = cluster.nodes[0..<3].map { "\"\($0.address)\"" }.joined(separator: ",")
        #expect(try service.client.post("/clusters", #"{"id":"live","seeds":[\#(seeds)]}"#).status == 201)
        try service.client.runJob("live", "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)
        // redis-py (8.1) only knows nodes that own slots when it starts, and crashes on an ASK to any other node
        // (it looks the node up, gets None). One slot first puts the new master in the client's map.
        try service.client.runJob("live", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slot_ranges":[[16383,16383]]}"#)

        let run = try ScriptRun.script("client_during_reshard.py", ["\(cluster.nodes[0].port)", "\(service.server.port)", "live",
                                                                     cluster.nodes[3].address, "6000"])
        #expect(run.status == 0, "client report: \(run.output)")
        let report = run.report
        #expect(report?["job"] as? String == "succeeded")
        #expect((report?["operations"] as? Int ?? 0) > 0)
        #expect(report?["lost_count"] as? Int == 0)
        #expect(cluster.openSlotMarkers().isEmpty)
        cluster.expectClean(from: cluster.nodes[0])
    }
}
