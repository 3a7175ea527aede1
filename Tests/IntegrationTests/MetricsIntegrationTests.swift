import Foundation
import Testing

/// /metrics as Grafana gets it, read with prometheus-client's parser: job durations, keys and slots moved, the
/// migration rate while a job runs, per-cluster topology gauges read on a schedule, HTTP latency by route template,
/// and label values only from fixed sets.
@Suite(.serialized)
struct MetricsIntegrationTests {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Scrape {
        var families: [String: String]
        var samples: [Sample]

        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
        }

        func all(_ name: String) -> [Sample] { samples.filter { $0.name == name } }
    }

    static func scrape(port: UInt16, token: String) throws -> Scrape {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/read_metrics.py")
        let output = try RedisNodeProcess.run("/usr/bin/env", ["python3", script.path, "http://127.0.0.1:\(port)/metrics", token])
        guard let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else {
            throw TestFailure("/metrics did not parse with prometheus-client: \(output)")
        }
        let samples = (object["samples"] as? [[String: Any]] ?? []).map {
            Sample(name: $0["name"] as? String ?? "", labels: $0["labels"] as? [String: String] ?? [:],
                   value: ($0["value"] as? NSNumber)?.doubleValue ?? .nan)
        }
        return Scrape(families: object["families"] as? [String: String] ?? [:], samples: samples)
    }

    @Test func metricsWorthGraphing() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 20_000, seed: cluster.nodes[0].address)
        let service = try SecuredService(arguments: ["--gauges-interval", "2"])
        defer { service.stop() }
        let admin = service.admin
        let read = AccessIntegrationTests.readToken
        #expect(try admin.post("/clusters", #"{"id":"m","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        try admin.runJob("m", "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)

        // A throttled move, scraped while it runs: a rate shows, and never above what the throttle allows (1 500/s,
        // plus its first batch).
        let job = try admin.submit("m", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":4096,"max_keys_per_second":1500}"#)
        var rates: [Double] = []
        for _ in 0..<40 {
            Thread.sleep(forTimeInterval: 0.5)
            rates.append(try Self.scrape(port: service.port, token: read).value("rcm_migration_keys_per_second", ["cluster": "m"]) ?? -1)
            if try admin.get("/jobs/\(job)").object["status"] as? String != "running" { break }
        }
        let finished = try admin.waitForJob(job)
        #expect(finished["status"] as? String == "succeeded")
        let moved = (finished["progress"] as? [String: Any])?["keys_moved"] as? Int ?? 0
        #expect(rates.contains { $0 > 0 }, "rates seen: \(rates)")
        #expect(rates.allSatisfy { $0 <= 3000 }, "rates seen: \(rates)")

        // Garbage that must not make new series: raw paths, unknown methods.
        for index in 0..<20 {
            _ = try admin.get("/jobs/\(1000 + index)")
            _ = try admin.request("BREW\(index)", "/nowhere/\(index)")
        }
        Thread.sleep(forTimeInterval: 2.5)
        let scrape = try Self.scrape(port: service.port, token: read)
        #expect(scrape.families["rcm_job_duration_seconds"] == "histogram")
        #expect(scrape.value("rcm_job_duration_seconds_count", ["type": "reshard", "outcome": "succeeded"]) == 1)
        #expect(scrape.value("rcm_job_duration_seconds_count", ["type": "add-node", "outcome": "succeeded"]) == 1)
        #expect((scrape.value("rcm_job_duration_seconds_sum", ["type": "reshard", "outcome": "succeeded"]) ?? 0) > 0)
        #expect(scrape.value("rcm_keys_moved_total", ["cluster": "m"]) == Double(moved))
        #expect(scrape.value("rcm_slots_moved_total", ["cluster": "m"]) == 4096)
        #expect(scrape.value("rcm_cluster_up", ["cluster": "m"]) == 1)
        #expect(scrape.value("rcm_cluster_masters", ["cluster": "m"]) == 4)
        #expect(scrape.value("rcm_cluster_replicas", ["cluster": "m"]) == 0)
        #expect(scrape.value("rcm_cluster_open_slots", ["cluster": "m"]) == 0)
        #expect(scrape.value("rcm_cluster_uncovered_slots", ["cluster": "m"]) == 0)
        #expect(scrape.value("rcm_cluster_failing_nodes", ["cluster": "m"]) == 0)
        #expect(scrape.value("rcm_http_request_duration_seconds_count", ["route": "/jobs/{id}", "method": "GET"]) ?? 0 >= 20)

        let routes = Set(scrape.all("rcm_http_request_duration_seconds_count").compactMap { $0.labels["route"] })
        #expect(!routes.contains { $0.contains("1000") || $0.hasPrefix("/nowhere") }, "raw paths as labels: \(routes)")
        #expect(routes.contains("unmatched"))
        let methods = Set(scrape.samples.compactMap { $0.labels["method"] })
        #expect(methods.isSubset(of: ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"]), "\(methods)")
        #expect(methods.contains("other"))

        // The gauges come from the schedule, not from the scrape: a cluster that changes shows it on the next read.
        cluster.nodes[3].kill()
        var failing: Double?
        for _ in 0..<60 {
            Thread.sleep(forTimeInterval: 0.5)
            let next = try Self.scrape(port: service.port, token: read)
            failing = next.value("rcm_cluster_unreachable_nodes", ["cluster": "m"])
            if failing == 1 { break }
        }
        #expect(failing == 1)
        #expect(try Self.scrape(port: service.port, token: read).value("rcm_cluster_topology_age_seconds", ["cluster": "m"]) ?? 99 < 10)
    }
}
