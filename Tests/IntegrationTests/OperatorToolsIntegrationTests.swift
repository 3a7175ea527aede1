import Foundation
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
}
