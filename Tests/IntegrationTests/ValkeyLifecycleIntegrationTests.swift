import ClusterModel
import Foundation
import Testing

/// The lifecycle on Valkey 9, every step one API call: create 3/3 from six valkey nodes → 50 000 keys → add a
/// master → reshard 4096 slots to it → add its replica → remove the replica → drain and remove the master, with
/// every key intact. After each job `redis-cli --cluster check` is clean and no slot is left open. On Valkey 9
/// the slot moves are planned as atomic slot migrations (CLUSTER MIGRATESLOTS).
@Suite(.serialized)
struct ValkeyLifecycleIntegrationTests {
    static let keyCount = 50_000

    @Test func lifecycleOnValkey9() throws {
        let cluster = try TestCluster(nodes: 8, server: .valkey)
        defer { cluster.stop() }
        let info = try cluster.nodes[0].cli(["INFO", "server"])
        #expect(info.contains("server_name:valkey") && info.contains("valkey_version:9."), "not Valkey 9:\n\(info)")
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        let nodes = cluster.nodes

        let seeds = nodes[0..<6].map { "\"\($0.address)\"" }.joined(separator: ",")
        #expect(try client.post("/clusters", #"{"id":"valkey","seeds":[\#(seeds)]}"#).status == 201)

        // create, 1 replica per master
        let created = try client.runJob("valkey", "create", #"{"replicas":1}"#)
        #expect(created["status"] as? String == "succeeded")
        cluster.expectSettled(from: nodes[0])
        var topology = try client.topology("valkey")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 3)
        #expect((topology["summary"] as? [String: Any])?["replicas"] as? Int == 3)
        #expect(masters(topology).values.compactMap { $0["slot_count"] as? Int }.sorted() == [5461, 5461, 5462])

        try ClusterKeys.write(count: Self.keyCount, seed: nodes[0].address)
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: nodes[0].address) == Self.keyCount)

        // scale out: a new master, 4096 slots to it, then its replica
        let newMaster = nodes[6]
        try client.runJob("valkey", "add-node", #"{"address":"\#(newMaster.address)","role":"master"}"#)
        cluster.expectSettled(from: nodes[0])
        let reshard = try client.runJob("valkey", "reshard", #"{"to":"\#(newMaster.address)","slots":4096}"#)
        #expect(reshard["status"] as? String == "succeeded")
        #expect((reshard["progress"] as? [String: Any])?["slots_done"] as? Int == 4096)
        let reshardPlan = planMethod(reshard)
        #expect(reshardPlan.method == "atomic", "reshard plan on Valkey 9 is not atomic: \(reshardPlan.plan)")
        cluster.expectSettled(from: nodes[0])
        topology = try client.topology("valkey")
        let newMasterSlots = slotSet(masters(topology)[newMaster.address]?["slots"] as? [[Int]] ?? [])
        #expect(newMasterSlots.count == 4096)
        // the keys of its slots moved with them, and only those
        let expectedThere = (0..<Self.keyCount).filter { newMasterSlots.contains(HashSlot.slot(for: Array(ClusterKeys.key($0).utf8))) }.count
        #expect(expectedThere > 0)
        #expect(try newMaster.cli(["DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines) == "\(expectedThere)")
        let newMasterId = masters(topology)[newMaster.address]?["id"] as? String ?? ""

        let newReplica = nodes[7]
        try client.runJob("valkey", "add-node", #"{"address":"\#(newReplica.address)","role":"replica","master":"\#(newMasterId)"}"#)
        cluster.expectSettled(from: nodes[0])
        topology = try client.topology("valkey")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 4)
        #expect((topology["summary"] as? [String: Any])?["replicas"] as? Int == 4)
        #expect((masters(topology)[newMaster.address]?["replicas"] as? [String])?.count == 1)

        // scale in: remove the replica, then drain and remove the master
        try client.runJob("valkey", "del-node", #"{"node":"\#(newReplica.address)"}"#)
        cluster.expectSettled(from: nodes[0])
        #expect(try newReplica.cli(["CLUSTER", "NODES"]).split(separator: "\n").count == 1)
        let drain = try client.runJob("valkey", "del-node", #"{"node":"\#(newMasterId)"}"#)
        #expect(drain["status"] as? String == "succeeded")
        #expect((drain["progress"] as? [String: Any])?["slots_done"] as? Int == 4096)
        let drainPlan = planMethod(drain)
        #expect(drainPlan.method == "atomic", "del-node plan on Valkey 9 is not atomic: \(drainPlan.plan)")
        cluster.expectSettled(from: nodes[0])
        #expect(try newMaster.cli(["CLUSTER", "NODES"]).split(separator: "\n").count == 1)
        topology = try client.topology("valkey")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 3)
        #expect((topology["summary"] as? [String: Any])?["replicas"] as? Int == 3)
        #expect(masters(topology)[newMaster.address] == nil)
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true)
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: nodes[0].address) == Self.keyCount)

        let jobs = try client.get("/jobs?cluster_id=valkey").object["items"] as? [[String: Any]] ?? []
        #expect(jobs.compactMap { $0["type"] as? String } == ["del-node", "del-node", "add-node", "reshard", "add-node", "create"])
        #expect(jobs.allSatisfy { $0["status"] as? String == "succeeded" })
    }
}
