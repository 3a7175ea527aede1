import Foundation
import Testing

/// `fix` over HTTP when a whole shard is gone: refused with `shard_down` naming the slots and the dead nodes,
/// changing nothing; with `accept_data_loss` the slots are covered with empty ones and the cluster serves again.
@Suite(.serialized)
struct FixJobIntegrationTests {
    @Test func aDownShardIsRefusedUntilDataLossIsAccepted() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try JobOpsProbe.register(client, "shard", cluster.nodes[0])
        let dead = cluster.nodes[2]
        let deadSlots = try JobOpsProbe.myself(dead).slots
        dead.kill()
        // Until the others flag it as failing, the cluster does not know the shard is gone.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !((try? cluster.nodes[0].cli(["CLUSTER", "INFO"])) ?? "").contains("cluster_state:fail") {
            Thread.sleep(forTimeInterval: 0.2)
        }

        let refused = try client.post("/clusters/shard/fix", "{}")
        #expect(refused.status == 422, "\(refused.text)")
        #expect(refused.object["code"] as? String == "shard_down")
        let detail = refused.object["detail"] as? String ?? ""
        #expect(detail.contains(dead.address), "\(detail)")
        #expect(detail.contains(JobOpsProbe.rangesText(deadSlots)), "\(detail)")
        #expect(detail.contains("accept_data_loss"), "\(detail)")
        #expect(try JobOpsProbe.jobIds(client, cluster: "shard").isEmpty)

        let job = try client.runJob("shard", "fix", #"{"accept_data_loss":true}"#, timeout: 120)
        #expect(job["status"] as? String == "succeeded")
        let live = Array(cluster.nodes.prefix(2))
        try cluster.waitUntilConsistent(live)
        for node in live {
            #expect(try node.cli(["CLUSTER", "INFO"]).contains("cluster_state:ok"))
        }
        cluster.expectClean(from: live[0])
    }
}
