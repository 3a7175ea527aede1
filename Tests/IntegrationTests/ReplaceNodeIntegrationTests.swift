import Foundation
import Testing

/// Move from Redis to Valkey without downtime: every node of a 3-master/3-replica Redis 7 cluster is replaced by an
/// empty Valkey 9 node, one `replace-node` job at a time (replicas first, then masters), while redis-py increments
/// counters throughout (Scripts/counters_during_jobs.py). No acknowledged increment is lost, `redis-cli --cluster
/// check` is clean after each replacement, and in the end every node runs Valkey and holds every key.
@Suite(.serialized)
struct ReplaceNodeIntegrationTests {
    @Test func redisClusterBecomesValkeyOneNodeAtATime() throws {
        let redis = try TestCluster(nodes: 6)
        defer { redis.stop() }
        try redis.create(replicas: 1)
        let valkey = try TestCluster(nodes: 6, server: .valkey)
        defer { valkey.stop() }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"move","seeds":["\#(redis.nodes[0].address)"]}"#).status == 201)
        try ClusterKeys.write(count: 20_000, seed: redis.nodes[0].address)

        // The dry run names the servers and refuses nothing.
        let topology = try client.topology("move")
        let nodes = topology["nodes"] as? [[String: Any]] ?? []
        let replicas = nodes.filter { $0["role"] as? String == "replica" }.compactMap { $0["address"] as? String }
        let masters = nodes.filter { $0["role"] as? String == "master" }.compactMap { $0["address"] as? String }
        #expect(replicas.count == 3 && masters.count == 3)
        let order = replicas + masters
        let dry = try client.post("/clusters/move/replace-node", #"{"node":"\#(masters[0])","with":"\#(valkey.nodes[0].address)","dry_run":true}"#)
        #expect(dry.status == 200, "\(dry.text)")
        let plan = dry.object["plan"] as? [String: Any] ?? [:]
        #expect((plan["servers"] as? String ?? "").contains("valkey"), "\(plan)")
        #expect(plan["failover"] as? Bool == true)
        // Its replica still runs Redis 7, which could not load Valkey's data in a full sync: replace it first.
        let compatibility = (plan["preflight"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "compatibility" }
        #expect(compatibility?["status"] as? String == "warn", "\(compatibility ?? [:])")

        let jobs: [[Any]] = zip(order, valkey.nodes).map { old, new in ["replace-node", ["node": old, "with": new.address]] }
        let jobsText = String(decoding: try JSONSerialization.data(withJSONObject: jobs), as: UTF8.self)
        let run = try ScriptRun.script("counters_during_jobs.py", ["\(redis.nodes[0].port)", "\(service.server.port)", "move", jobsText, "512"])
        #expect(run.status == 0, "client script failed: \(run.output)")
        guard let report = run.report else { throw TestFailure("no report from the client script:\n\(run.output)") }
        let ran = report["jobs"] as? [[String: Any]] ?? []
        #expect(ran.count == 6, "\(ran)")
        for job in ran {
            #expect(job["status"] as? String == "succeeded", "replace-node \(job["id"] ?? "?"): \(job["error"] ?? "")")
            #expect(job["check_clean"] as? Bool == true, "check after job \(job["id"] ?? "?"):\n\(job["check"] ?? "")")
        }
        #expect((report["lost"] as? [Any])?.isEmpty == true, "lost increments: \(report["lost"] ?? "")")
        #expect((report["ops"] as? Int ?? 0) > 100, "the client made \(report["ops"] ?? 0) increments")
        print("replace-node ×6 under counters: \(report["ops"] ?? 0) increments acknowledged, \(report["error_count"] ?? 0) client errors, 0 lost")

        let final = (try client.topology("move"))["nodes"] as? [[String: Any]] ?? []
        #expect(final.count == 6)
        let products = final.map { (($0["server"] as? [String: Any])?["product"] as? String) ?? "?" }
        #expect(products.allSatisfy { $0 == "valkey" }, "\(products)")
        #expect(try ClusterKeys.verify(count: 20_000, seed: valkey.nodes[0].address) == 20_000)
        valkey.expectClean(from: valkey.nodes[0])
    }

    /// kill -9 of the service while the new node's first sync is under way (its progress shows the sync), then a
    /// restart: the job resumes from the cluster's state (the node has joined; it only waits for the sync), takes
    /// over and removes the old master, with every key in place.
    @Test func killedDuringTheSyncResumesAndFinishes() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 100_000, seed: cluster.nodes[0].address)
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-replace-\(UUID().uuidString).sqlite").path
        var service: ServiceProcess? = try ServiceProcess(databasePath: database)
        let client = service!.client
        #expect(try client.post("/clusters", #"{"id":"swap","seeds":["\#(cluster.nodes[1].address)"]}"#).status == 201)
        let old = cluster.nodes[0], new = cluster.nodes[3]
        let job = try client.submit("swap", "replace-node", #"{"node":"\#(old.address)","with":"\#(new.address)"}"#)
        // Redis's default repl-diskless-sync-delay (5 s) holds the first sync back: the job waits on it.
        var step = ""
        for _ in 0..<400 where !step.contains("sync") && !step.contains("connect") {
            step = ((try client.get("/jobs/\(job)").object["progress"] as? [String: Any])?["step"] as? String) ?? ""
            Thread.sleep(forTimeInterval: 0.025)
        }
        #expect(step.contains("sync") || step.contains("connect"), "the job never waited for the sync: \(step)")
        service!.kill9()
        service = nil

        let restarted = try ServiceProcess(databasePath: database)
        let finished = try restarted.client.waitForJob(job, timeout: 180)
        #expect(finished["status"] as? String == "succeeded", "\(finished["error"] ?? "")")
        #expect(try restarted.client.get("/jobs/\(job)/events").text.contains("resuming"))
        let topology = try restarted.client.topology("swap")
        let addresses = (topology["nodes"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
        #expect(!addresses.contains(old.address) && addresses.contains(new.address))
        #expect(masters(topology)[new.address]?["slot_count"] as? Int == 5461)
        #expect(try ClusterKeys.verify(count: 100_000, seed: new.address) == 100_000)
        cluster.expectClean(from: new)
        #expect(restarted.terminate() == 0)
    }
}
