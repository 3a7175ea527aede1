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

        let jobs: [[Any]] = zip(order, valkey.nodes).map { old, new in ["replace-node", ["node": old, "with": new.address]] }
        let jobsText = String(decoding: try JSONSerialization.data(withJSONObject: jobs), as: UTF8.self)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/counters_during_jobs.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "\(redis.nodes[0].port)", "\(service.server.port)", "move", jobsText, "512"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "client script failed: \(text)")
        let line = text.split(separator: "\n").last.map(String.init) ?? ""
        guard let report = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            throw TestFailure("no report from the client script:\n\(text)")
        }
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
}
