import ClusterModel
import Foundation
import RESP
import Testing

/// What redis-cli --cluster offers besides moving slots: `info` (compared with redis-cli's own numbers) and `call`
/// (a job, admin only, each node's reply in its result, dangerous commands refused unless forced).
@Suite(.serialized)
struct OperatorToolsIntegrationTests {
    @Test func infoAgreesWithRedisCli() throws {
        let cluster = try TestCluster(nodes: 6)
        defer { cluster.stop() }
        try cluster.create(replicas: 1)
        try ClusterKeys.write(count: 12_345, seed: cluster.nodes[0].address)
        let service = try TestService()
        defer { service.stop() }
        #expect(try service.client.post("/clusters", #"{"id":"i","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        // Replicas catch up asynchronously; masters' DBSIZE is what both read.
        let info = try service.client.get("/clusters/i/info")
        #expect(info.status == 200)
        let cli = try RedisNodeProcess.run("/usr/bin/redis-cli", ["--cluster", "info", cluster.nodes[0].address])
        let masters = info.object["masters"] as? [[String: Any]] ?? []
        #expect(masters.count == 3)
        for master in masters {
            let address = master["address"] as? String ?? ""
            let line = cli.split(separator: "\n").first { $0.hasPrefix(address) }.map(String.init) ?? ""
            #expect(line.contains("-> \(master["keys"] as? Int ?? -1) keys | \(master["slots"] as? Int ?? -1) slots | 1 slaves."), "\(line)")
            #expect(master["replicas"] as? Int == 1)
        }
        #expect(info.object["keys"] as? Int == 12_345)
        #expect(cli.contains("[OK] 12345 keys in 3 masters."))
        #expect(cli.contains("0.75 keys per slot on average."))
        #expect(info.object["message"] as? String == "[OK] 12345 keys in 3 masters. 0.75 keys per slot on average.")
        #expect(try service.client.get("/clusters/nope/info").status == 404)
    }

    @Test func callRunsOnTheChosenNodesAndRefusesWhatWouldBreakTheCluster() throws {
        let cluster = try TestCluster(nodes: 6)
        defer { cluster.stop() }
        try cluster.create(replicas: 1)
        let service = try SecuredService()
        defer { service.stop() }
        let admin = service.admin
        #expect(try admin.post("/clusters", #"{"id":"c","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)

        // Admin only.
        let operatorClient = service.client(AccessIntegrationTests.operatorToken)
        #expect(try operatorClient.post("/clusters/c/call", #"{"command":["PING"]}"#).status == 403)

        let set = try admin.runJob("c", "call", #"{"command":["CONFIG","SET","maxmemory-policy","allkeys-lru"],"nodes":"masters"}"#)
        let replies = (set["result"] as? [String: Any])?["replies"] as? [String: Any] ?? [:]
        #expect(replies.count == 3)
        #expect(replies.values.allSatisfy { $0 as? String == "OK" })
        #expect(set["actor"] as? String == "alice")
        for node in cluster.nodes {
            let policy = try node.cli(["CONFIG", "GET", "maxmemory-policy"])
            let isMaster = replies.keys.contains(node.address)
            #expect(policy.contains("allkeys-lru") == isMaster, "\(node.address): \(policy)")
        }
        let get = try admin.runJob("c", "call", #"{"command":["CONFIG","GET","maxmemory-policy"],"nodes":"replicas"}"#)
        let got = (get["result"] as? [String: Any])?["replies"] as? [String: Any] ?? [:]
        #expect(got.count == 3)
        #expect(got.values.allSatisfy { ($0 as? [String]) == ["maxmemory-policy", "noeviction"] })

        // Refused, naming the safe kind; nothing runs.
        for (command, kind) in [(#"["FLUSHALL"]"#, ""), (#"["CLUSTER","FAILOVER"]"#, "failover"), (#"["cluster","reset","hard"]"#, "del-node"),
                                (#"["CONFIG","SET","cluster-node-timeout","100"]"#, "set-timeout"), (#"["MIGRATE","x","1","k","0","1"]"#, "reshard")] {
            let refused = try admin.post("/clusters/c/call", #"{"command":\#(command)}"#)
            #expect(refused.status == 422, "\(command)")
            #expect(refused.object["code"] as? String == "unsafe_command")
            if !kind.isEmpty { #expect((refused.object["detail"] as? String ?? "").contains("'\(kind)' job"), "\(refused.text)") }
        }
        #expect(try admin.post("/clusters/c/call", #"{"command":[]}"#).status == 400)
        #expect(try admin.post("/clusters/c/call", #"{"command":["PING"],"nodes":"some"}"#).status == 400)

        // Forced, it runs; an error reply fails the job with every node's reply kept.
        let forced = try admin.runJob("c", "call", #"{"command":["FLUSHALL"],"nodes":"masters","force":true}"#)
        #expect(forced["status"] as? String == "succeeded")
        let bad = try admin.submit("c", "call", #"{"command":["NOSUCHCOMMAND"]}"#)
        let failed = try admin.waitForJob(bad)
        #expect(failed["status"] as? String == "failed")
        let errors = (failed["result"] as? [String: Any])?["replies"] as? [String: Any] ?? [:]
        #expect(errors.count == 6)
        #expect(errors.values.allSatisfy { (($0 as? [String: Any])?["error"] as? String ?? "").contains("unknown command") })
        let audit = try admin.get("/jobs?type=call").object["items"] as? [[String: Any]] ?? []
        #expect(audit.count == 4)
    }

    /// Reshard, restore the job's snapshot_before: every slot's owner is the snapshot's again, no key lost. A snapshot
    /// whose master has since been removed is refused, naming it.
    @Test func restoreGoesBackToASnapshotsSlotLayout() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 20_000, seed: cluster.nodes[0].address)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"r","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        try client.runJob("r", "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)
        let reshard = try client.runJob("r", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":3000}"#)
        let before = try #require(reshard["snapshot_before"] as? Int)
        let after = try #require(reshard["snapshot_after"] as? Int)

        let dry = try client.post("/clusters/r/restore", #"{"snapshot":\#(before),"dry_run":true}"#)
        #expect(dry.status == 200)
        let planned = ((dry.object["plan"] as? [String: Any])?["moves"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        #expect(planned == (reshard["progress"] as? [String: Any])?["slots_total"] as? Int, "the restore moves back what the reshard moved")
        #expect(planned > 2900)
        #expect(try client.post("/clusters/r/restore", #"{"snapshot":999999}"#).status == 422)
        #expect(try client.post("/clusters/r/restore", #"{"snapshot":"x"}"#).status == 400)

        let restored = try client.runJob("r", "restore", #"{"snapshot":\#(before)}"#)
        #expect(restored["status"] as? String == "succeeded")
        let snapshot = try client.get("/clusters/r/snapshots/\(before)").object["topology"] as? [String: Any] ?? [:]
        #expect(try Self.owners(snapshot) == Self.owners(try client.topology("r")), "every slot has its snapshot owner again")
        #expect(try ClusterKeys.verify(count: 20_000, seed: cluster.nodes[0].address) == 20_000)
        cluster.expectSettled(from: cluster.nodes[0])

        // Drain and remove the fourth master: a snapshot where it owned slots can no longer be restored.
        try client.runJob("r", "del-node", #"{"node":"\#(cluster.nodes[3].address)"}"#)
        let refused = try client.post("/clusters/r/restore", #"{"snapshot":\#(after)}"#)
        #expect(refused.status == 422)
        #expect((refused.object["detail"] as? String ?? "").contains(cluster.nodes[3].address), "\(refused.text)")
    }

    /// slot → owning master id, from a topology document.
    static func owners(_ topology: [String: Any]) throws -> [Int: String] {
        var owners: [Int: String] = [:]
        for node in topology["nodes"] as? [[String: Any]] ?? [] where node["role"] as? String == "master" {
            for range in node["slots"] as? [[Int]] ?? [] where range.count == 2 {
                for slot in range[0]...range[1] { owners[slot] = node["id"] as? String }
            }
        }
        return owners
    }

    /// Keys skewed into a dozen slots of one master: `balance_by: keys` spreads them; slot counts would not.
    @Test func rebalanceByKeysEvensOutSkewedKeys() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"b","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        let owner = try #require(masters(try client.topology("b")).values.first { master in
            (master["slots"] as? [[Int]] ?? []).contains { $0.first == 0 }
        })
        let address = try #require(owner["address"] as? String)
        let range = try #require((owner["slots"] as? [[Int]])?.first)
        // 12 hash tags whose slots this master owns, 2 500 keys each.
        var tags: [String] = []
        var index = 0
        while tags.count < 12 {
            let tag = "t\(index)"
            let slot = HashSlot.slot(for: tag)
            if slot >= range[0] && slot <= range[1] && !tags.contains(where: { HashSlot.slot(for: $0) == slot }) { tags.append(tag) }
            index += 1
        }
        let connection = try RedisConnection(endpoint: RedisEndpoint(address)!)
        for tag in tags {
            let commands = (0..<2500).map { ["SET", "{\(tag)}:\($0)", "v"].map { Array($0.utf8) } }
            _ = try connection.pipeline(commands)
        }
        connection.close()

        func keysPerMaster() throws -> [Int] {
            try cluster.nodes.map { node in Int(try node.cli(["DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }.sorted()
        }
        #expect(try keysPerMaster() == [0, 0, 30_000])
        // By slot count it is already balanced: nothing to do.
        let bySlots = try client.post("/clusters/b/rebalance", #"{"dry_run":true}"#)
        #expect(((bySlots.object["plan"] as? [String: Any])?["moves"] as? [Any])?.isEmpty == true)

        let dry = try client.post("/clusters/b/rebalance", #"{"balance_by":"keys","threshold_percent":10,"dry_run":true}"#)
        #expect(dry.status == 200)
        let balance = (dry.object["plan"] as? [String: Any])?["balance"] as? [String: Any] ?? [:]
        #expect(balance["measure"] as? String == "keys")
        let figures = balance["masters"] as? [[String: Any]] ?? []
        #expect(figures.compactMap { $0["before"] as? Double }.sorted() == [0, 0, 30_000])
        #expect(figures.compactMap { $0["after"] as? Double }.allSatisfy { abs($0 - 10_000) <= 2_500 }, "\(figures)")

        let job = try client.runJob("b", "rebalance", #"{"balance_by":"keys","threshold_percent":10}"#)
        #expect(job["status"] as? String == "succeeded")
        let after = try keysPerMaster()
        #expect(after.reduce(0, +) == 30_000)
        #expect(after.allSatisfy { abs($0 - 10_000) <= 2_500 }, "\(after)")
        cluster.expectSettled(from: cluster.nodes[0])

        // Redis 7 has no per-slot statistics: cpu and memory are refused, naming the node.
        let cpu = try client.post("/clusters/b/rebalance", #"{"balance_by":"cpu","dry_run":true}"#)
        #expect(cpu.status == 422)
        #expect((cpu.object["detail"] as? String ?? "").contains("CLUSTER SLOT-STATS"), "\(cpu.text)")
        #expect(try client.post("/clusters/b/rebalance", #"{"balance_by":"weight"}"#).status == 400)
    }

    /// Valkey offers per-slot CPU (CLUSTER SLOT-STATS with cluster-slot-stats-enabled): a rebalance by cpu is planned
    /// from it; per-slot memory it does not offer, and that is a 422 naming the node.
    @Test func rebalanceByCpuReadsValkeysSlotStatistics() throws {
        let cluster = try TestCluster(nodes: 3, server: .valkey)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        for node in cluster.nodes { _ = try node.cli(["CONFIG", "SET", "cluster-slot-stats-enabled", "yes"]) }
        try ClusterKeys.write(count: 3_000, seed: cluster.nodes[0].address)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"v","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        let cpu = try client.post("/clusters/v/rebalance", #"{"balance_by":"cpu","dry_run":true}"#)
        #expect(cpu.status == 200, "\(cpu.text)")
        let balance = (cpu.object["plan"] as? [String: Any])?["balance"] as? [String: Any] ?? [:]
        #expect(balance["measure"] as? String == "cpu")
        #expect((balance["masters"] as? [Any])?.count == 3)
        let memory = try client.post("/clusters/v/rebalance", #"{"balance_by":"memory","dry_run":true}"#)
        #expect(memory.status == 422)
        #expect((memory.object["detail"] as? String ?? "").contains("memory"), "\(memory.text)")
    }
}
