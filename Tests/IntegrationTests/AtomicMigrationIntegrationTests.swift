import Foundation
import Testing

/// Atomic slot migration on real Valkey 9 nodes: a job killed mid-migration resumes by reading the nodes'
/// migration logs (it follows what is running instead of starting it again); cancel stops every migration and
/// leaves each slot with exactly one owner; and the method is chosen, refused or forced as the request says.
@Suite(.serialized)
struct AtomicMigrationIntegrationTests {
    static let keyCount = 30_000

    /// 3 Valkey masters with keys and an empty 4th master joined through the API; the sources' snapshots are
    /// slowed (`rdb-key-save-delay`, µs per key) so a migration lasts long enough to be interrupted.
    func prepare(_ cluster: TestCluster, _ client: HTTPTestClient, id: String, saveDelayMicros: Int) throws {
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: Self.keyCount, seed: cluster.nodes[0].address)
        let seeds = cluster.nodes[0..<3].map { "\"\($0.address)\"" }.joined(separator: ",")
        #expect(try client.post("/clusters", #"{"id":"\#(id)","seeds":[\#(seeds)]}"#).status == 201)
        try client.runJob(id, "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)
        for node in cluster.nodes[0..<3] {
            #expect(try node.cli(["CONFIG", "SET", "rdb-key-save-delay", "\(saveDelayMicros)"]).contains("OK"))
        }
    }

    /// Polls the job's events until `count` migrations have been started.
    func waitForStarts(_ client: HTTPTestClient, job: Int, count: Int) throws {
        for _ in 0..<2000 {
            if try client.get("/jobs/\(job)/events").text.components(separatedBy: "CLUSTER MIGRATESLOTS started").count - 1 >= count {
                return
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw TestFailure("job \(job) did not start \(count) migrations")
    }

    func migrationStates(_ node: RedisNodeProcess) -> String {
        (try? node.cli(["CLUSTER", "GETSLOTMIGRATIONS"])) ?? ""
    }

    @Test func killedDuringAtomicMigrationFollowsTheRunningMigrationsAfterRestart() throws {
        let cluster = try TestCluster(nodes: 4, server: .valkey)
        defer { cluster.stop() }
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-atomic-\(UUID().uuidString).sqlite").path
        var service: ServiceProcess? = try ServiceProcess(databasePath: database)
        // 10 000 keys per source at 300 µs each: a snapshot takes about 3 s.
        try prepare(cluster, service!.client, id: "asm", saveDelayMicros: 300)

        let job = try service!.client.submit("asm", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":4096}"#)
        try waitForStarts(service!.client, job: job, count: 3)
        service!.kill9()
        service = nil
        let running = cluster.nodes[0..<3].map(migrationStates).filter { $0.contains("snapshotting") || $0.contains("waiting-to-snapshot") }
        #expect(!running.isEmpty, "no migration was still running when the service died")

        let restarted = try ServiceProcess(databasePath: database)
        let finished = try restarted.client.waitForJob(job)
        #expect(finished["status"] as? String == "succeeded", "\(finished)")
        #expect(planMethod(finished).method == "atomic")
        let events = try restarted.client.get("/jobs/\(job)/events").text
        // Resumed by the logs: each source's migration was started once, and the running ones were followed.
        #expect(events.components(separatedBy: "CLUSTER MIGRATESLOTS started").count - 1 == 3, "\(events)")
        #expect(events.contains("following it"), "\(events)")
        let total = (finished["plan"] as? [String: Any])?["slots_total"] as? Int ?? -1
        #expect(total == 4096)
        #expect(masters(try restarted.client.topology("asm"))[cluster.nodes[3].address]?["slot_count"] as? Int == 4096)
        cluster.expectSettled(from: cluster.nodes[0])
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: cluster.nodes[0].address) == Self.keyCount)
        #expect(restarted.terminate() == 0)
    }

    @Test func cancelStopsEveryAtomicMigrationAndEachSlotKeepsOneOwner() throws {
        let cluster = try TestCluster(nodes: 4, server: .valkey)
        defer { cluster.stop() }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        // 2 ms per key: each snapshot would take about 20 s.
        try prepare(cluster, client, id: "asmc", saveDelayMicros: 2000)

        let job = try client.submit("asmc", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":4096}"#)
        try waitForStarts(client, job: job, count: 3)
        #expect(try client.post("/jobs/\(job)/cancel").status == 202)
        let ended = try client.waitForJob(job)
        #expect(ended["status"] as? String == "cancelled", "\(ended)")
        let events = try client.get("/jobs/\(job)/events").text
        #expect(events.contains("cancelled the running CLUSTER MIGRATESLOTS"), "\(events)")
        // Every source reports its export cancelled; nothing is still running anywhere.
        for node in cluster.nodes[0..<3] {
            let states = migrationStates(node)
            #expect(states.contains("cancelled"), "\(node.address): \(states)")
            #expect(!states.contains("snapshotting") && !states.contains("waiting-to-snapshot"), "\(node.address): \(states)")
        }
        for node in cluster.nodes[0..<3] {
            _ = try node.cli(["CONFIG", "SET", "rdb-key-save-delay", "0"])
        }
        let target = masters(try client.topology("asmc"))[cluster.nodes[3].address]
        let done = (ended["progress"] as? [String: Any])?["slots_done"] as? Int ?? -1
        #expect(target?["slot_count"] as? Int == done)
        cluster.expectSettled(from: cluster.nodes[0])
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: cluster.nodes[0].address) == Self.keyCount)

        // The same move runs to the end afterwards.
        // A Valkey 9.1 import can stay in one state for good after a cancel; the job then cancels it after 30 s of
        // no progress and starts it again, so it still ends.
        let again = try client.runJob("asmc", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":4096}"#, timeout: 240)
        #expect(planMethod(again).method == "atomic")
        #expect(masters(try client.topology("asmc"))[cluster.nodes[3].address]?["slot_count"] as? Int == 4096)
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: cluster.nodes[0].address) == Self.keyCount)
    }

    @Test func theMethodIsChosenRefusedOrForcedAsTheRequestSays() throws {
        let valkey = try TestCluster(nodes: 4, server: .valkey)
        defer { valkey.stop() }
        let redis = try TestCluster(nodes: 4)
        defer { redis.stop() }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        for (id, cluster) in [("vk", valkey), ("rd", redis)] {
            try cluster.create(count: 3, replicas: 0)
            let seeds = cluster.nodes[0..<3].map { "\"\($0.address)\"" }.joined(separator: ",")
            #expect(try client.post("/clusters", #"{"id":"\#(id)","seeds":[\#(seeds)]}"#).status == 201)
            try client.runJob(id, "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)
        }
        let server = (try client.topology("vk")["nodes"] as? [[String: Any]])?.first?["server"] as? [String: Any]
        #expect(server?["product"] as? String == "valkey")
        #expect((server?["version"] as? String)?.hasPrefix("9.") == true)

        func dryRun(_ id: String, _ target: RedisNodeProcess, _ extra: String) throws -> HTTPTestClient.Response {
            try client.post("/clusters/\(id)/reshard", #"{"to":"\#(target.address)","slots":100,"dry_run":true\#(extra)}"#)
        }
        let auto = try dryRun("vk", valkey.nodes[3], "")
        #expect(auto.status == 200)
        #expect(auto.text.contains(#""method":"atomic""#) && auto.text.contains(#""atomic_protocol":"valkey-migrateslots""#), "\(auto.text)")
        let throttled = try dryRun("vk", valkey.nodes[3], #","max_keys_per_second":5000"#)
        #expect(throttled.text.contains(#""method":"keys""#) && throttled.text.contains("max_keys_per_second"), "\(throttled.text)")
        let forcedKeys = try dryRun("vk", valkey.nodes[3], #","method":"keys""#)
        #expect(forcedKeys.text.contains(#""method":"keys""#), "\(forcedKeys.text)")
        let both = try dryRun("vk", valkey.nodes[3], #","method":"atomic","max_keys_per_second":5000"#)
        #expect(both.status == 400 && both.text.contains("max_keys_per_second"), "\(both.status) \(both.text)")
        let bogus = try dryRun("vk", valkey.nodes[3], #","method":"fast""#)
        #expect(bogus.status == 400 && bogus.text.contains("method"), "\(bogus.status) \(bogus.text)")

        // Redis 7 has no atomic migration: auto moves keys and says why; atomic is refused, naming the server.
        let redisAuto = try dryRun("rd", redis.nodes[3], "")
        #expect(redisAuto.text.contains(#""method":"keys""#) && redisAuto.text.contains("redis 7."), "\(redisAuto.text)")
        let redisAtomic = try dryRun("rd", redis.nodes[3], #","method":"atomic""#)
        #expect(redisAtomic.status == 422 && redisAtomic.text.contains("redis 7."), "\(redisAtomic.status) \(redisAtomic.text)")

        // A throttled key-by-key move on Valkey: it goes key by key and moves every key of the slots.
        try ClusterKeys.write(count: 5_000, seed: valkey.nodes[0].address)
        let moved = try client.runJob("vk", "reshard",
                                      #"{"to":"\#(valkey.nodes[3].address)","slot_ranges":[[0,511]],"max_keys_per_second":20000}"#)
        #expect(planMethod(moved).method == "keys")
        // The target held no key before: what it holds now is what moved.
        let keysInSlots = masters(try client.topology("vk"))[valkey.nodes[3].address]?["keys"] as? Int ?? -1
        #expect(keysInSlots > 0)
        #expect((moved["progress"] as? [String: Any])?["keys_moved"] as? Int == keysInSlots)
        valkey.expectSettled(from: valkey.nodes[0])
        #expect(try ClusterKeys.verify(count: 5_000, seed: valkey.nodes[0].address) == 5_000)
    }
}
