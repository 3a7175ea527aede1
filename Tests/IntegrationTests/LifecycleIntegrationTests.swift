import Foundation
import Testing

/// The seed documents' walk-through, every step one API call, against real servers:
/// create 3/3 → 100 000 keys → add a master → reshard 4096 slots to it → add its replica → 4/4 →
/// a master dies and its replica takes over → it comes back as a replica → remove the replica → drain and
/// remove the master → 3 masters with every key intact. `redis-cli --cluster check` is clean after each job.
@Suite(.serialized)
struct LifecycleIntegrationTests {
    static let keyCount = 100_000

    @Test func seedScenario() throws {
        let cluster = try TestCluster(nodes: 8)
        defer { cluster.stop() }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        let nodes = cluster.nodes

        let seeds = nodes[0..<6].map { "\"\($0.address)\"" }.joined(separator: ",")
        #expect(try client.post("/clusters", #"{"id":"seed","seeds":[\#(seeds)]}"#).status == 201)

        // create, 1 replica per master
        let created = try client.runJob("seed", "create", #"{"replicas":1}"#)
        #expect(created["snapshot_before"] as? Int != nil)
        #expect(created["snapshot_after"] as? Int != nil)
        cluster.expectClean(from: nodes[0])
        var topology = try client.topology("seed")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 3)
        #expect((topology["summary"] as? [String: Any])?["replicas"] as? Int == 3)
        #expect(masters(topology).values.compactMap { $0["slot_count"] as? Int }.sorted() == [5461, 5461, 5462])

        try ClusterKeys.write(count: Self.keyCount, seed: nodes[0].address)
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: nodes[0].address) == Self.keyCount)

        // scale out: a new master, 4096 slots to it (the seed's exact ranges), then its replica
        let newMaster = nodes[6]
        try client.runJob("seed", "add-node", #"{"address":"\#(newMaster.address)","role":"master"}"#)
        cluster.expectClean(from: nodes[0])
        let reshard = try client.runJob("seed", "reshard", #"{"to":"\#(newMaster.address)","slots":4096}"#)
        #expect((reshard["progress"] as? [String: Any])?["slots_done"] as? Int == 4096)
        #expect(((reshard["progress"] as? [String: Any])?["keys_moved"] as? Int ?? 0) > 20_000)
        cluster.expectClean(from: nodes[0])
        topology = try client.topology("seed")
        #expect(masters(topology)[newMaster.address]?["slots"] as? [[Int]] == [[0, 1364], [5461, 6826], [10923, 12287]])
        let newMasterId = masters(topology)[newMaster.address]?["id"] as? String ?? ""

        let newReplica = nodes[7]
        try client.runJob("seed", "add-node", #"{"address":"\#(newReplica.address)","role":"replica","master":"\#(newMasterId)"}"#)
        cluster.expectClean(from: nodes[0])
        topology = try client.topology("seed")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 4)
        #expect((topology["summary"] as? [String: Any])?["replicas"] as? Int == 4)
        #expect(masters(topology)[newMaster.address]?["replicas"] as? [String] != nil)
        #expect((masters(topology)[newMaster.address]?["replicas"] as? [String])?.count == 1)

        // failover: stop a master's process; its replica is promoted
        let victimAddress = masters(topology).keys.sorted().first { $0 != newMaster.address }!
        let victim = nodes.first { $0.address == victimAddress }!
        let victimId = masters(topology)[victimAddress]?["id"] as? String ?? ""
        let victimSlots = masters(topology)[victimAddress]?["slots"] as? [[Int]] ?? []
        let replicaOfVictim = (topology["nodes"] as? [[String: Any]] ?? []).first { $0["master_id"] as? String == victimId }
        let promotedAddress = replicaOfVictim?["address"] as? String ?? ""
        victim.kill()
        var promoted = false
        for _ in 0..<120 where !promoted {
            Thread.sleep(forTimeInterval: 0.25)
            let view = try client.topology("seed")
            promoted = masters(view)[promotedAddress]?["slots"] as? [[Int]] == victimSlots
        }
        #expect(promoted, "replica \(promotedAddress) was not promoted")

        // the old master comes back as a replica of the promoted one
        try victim.start()
        var rejoined = false
        for _ in 0..<120 where !rejoined {
            Thread.sleep(forTimeInterval: 0.25)
            let view = try client.topology("seed")
            let node = (view["nodes"] as? [[String: Any]] ?? []).first { $0["address"] as? String == victimAddress }
            rejoined = node?["role"] as? String == "replica" && (view["checks"] as? [String: Any])?["ok"] as? Bool == true
        }
        #expect(rejoined, "\(victimAddress) did not come back as a replica")
        try cluster.waitUntilConsistent(Array(nodes))
        cluster.expectClean(from: nodes[1])

        // scale in: remove the replica, then drain and remove the master
        try client.runJob("seed", "del-node", #"{"node":"\#(newReplica.address)"}"#)
        cluster.expectClean(from: nodes[1])
        #expect(try newReplica.cli(["CLUSTER", "NODES"]).split(separator: "\n").count == 1)
        let drain = try client.runJob("seed", "del-node", #"{"node":"\#(newMasterId)"}"#)
        #expect((drain["progress"] as? [String: Any])?["slots_done"] as? Int == 4096)
        cluster.expectClean(from: nodes[1])
        topology = try client.topology("seed")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 3)
        #expect(masters(topology)[newMaster.address] == nil)
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true)
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: nodes[1].address) == Self.keyCount)

        // the audit trail has every job, newest first, each with before/after snapshots
        let jobs = try client.get("/jobs?cluster_id=seed").object["items"] as? [[String: Any]] ?? []
        #expect(jobs.compactMap { $0["type"] as? String } == ["del-node", "del-node", "add-node", "reshard", "add-node", "create"])
        #expect(jobs.allSatisfy { $0["status"] as? String == "succeeded" && $0["snapshot_after"] as? Int != nil })
    }
}
