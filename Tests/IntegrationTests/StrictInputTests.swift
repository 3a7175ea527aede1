import Foundation
import Store
import Testing

/// Input that two parsers could read two ways is refused: a JSON key given twice (anywhere, however it is escaped),
/// two Authorization headers. A cluster's queue has a ceiling. The service's data directories are private.
@Suite(.serialized)
struct StrictInputTests {
    @Test func duplicateKeysAreRefusedAndNothingRuns() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        let seed = cluster.nodes[0].address
        let twice = try client.post("/clusters", #"{"id":"a","id":"b","seeds":["\#(seed)"]}"#)
        #expect(twice.status == 400 && twice.text.contains("'id' twice"), "\(twice.status) \(twice.text)")
        let nested = try client.post("/clusters", #"{"id":"a","seeds":["\#(seed)"],"address_map":{"x":1,"x":2}}"#)
        #expect(nested.status == 400 && nested.text.contains("'x' twice"), "\(nested.status) \(nested.text)")
        #expect(try client.get("/clusters").text.contains("\"a\"") == false)
        #expect(try client.post("/clusters", #"{"id":"a","seeds":["\#(seed)"]}"#).status == 201)
        // The measured case, with the second key spelled with an escape: a real job would have run.
        let escaped = try client.post("/clusters/a/reshard", #"{"to":"\#(cluster.nodes[1].address)","slots":10,"dry_run":true,"dry_\u0072un":false}"#)
        #expect(escaped.status == 400 && escaped.text.contains("'dry_run' twice"), "\(escaped.status) \(escaped.text)")
        // The same key in two different objects is fine.
        let separate = try client.post("/clusters/a/rebalance", #"{"weights":{"\#(seed)":1},"dry_run":true}"#)
        #expect(separate.status == 200, "\(separate.text)")
        #expect(try client.get("/jobs?cluster_id=a").text.contains("\"id\"") == false, "a job was queued")
    }

    @Test func aSecondAuthorizationHeaderIsRefused() throws {
        let service = try SecuredService()
        defer { service.stop() }
        let admin = service.admin
        let doubled = try admin.request("GET", "/clusters", headers: [("Authorization", "Bearer \(AccessIntegrationTests.readToken)")])
        #expect(doubled.status == 400, "\(doubled.status) \(doubled.text)")
        #expect(try admin.get("/clusters").status == 200)
        // Without a tokens file too.
        let open = try TestService()
        defer { open.stop() }
        let twice = try open.client.request("GET", "/clusters", headers: [("Authorization", "Bearer a"), ("Authorization", "Bearer b")])
        #expect(twice.status == 400, "\(twice.status) \(twice.text)")
    }

    @Test func aFullQueueAnswers429WithRetryAfter() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try TestService(startWorker: false, maxQueuedJobs: 3)
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"q","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        for _ in 0..<3 { _ = try client.submit("q", "set-timeout", #"{"node_timeout_ms":5000}"#) }
        let full = try client.post("/clusters/q/set-timeout", #"{"node_timeout_ms":5000}"#)
        #expect(full.status == 429 && full.object["code"] as? String == "queue_full", "\(full.status) \(full.text)")
        #expect(full.headers["retry-after"] == "30")
        #expect(try client.post("/clusters/q/set-timeout", #"{"node_timeout_ms":5000,"dry_run":true}"#).status == 200)
        let queued = try client.get("/jobs?cluster_id=q&status=queued").object["items"] as? [Any] ?? []
        #expect(queued.count == 3)
    }

    @Test func dataDirectoriesArePrivate() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-private-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        _ = try Store(path: base.appendingPathComponent("data/db.sqlite").path)
        let mode = (try FileManager.default.attributesOfItem(atPath: base.appendingPathComponent("data").path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o700, "data directory mode \(String(mode ?? 0, radix: 8))")
    }
}
