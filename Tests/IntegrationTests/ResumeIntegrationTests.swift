import Foundation
import Testing

/// A job outlives the service: kill -9 in the middle of a reshard, restart on the same database, and the job
/// finishes with no slot open and no key lost. Cancel stops a running reshard at a safe point.
@Suite(.serialized)
struct ResumeIntegrationTests {
    static let keyCount = 100_000

    /// 3 masters with keys and an empty 4th master joined through the API.
    func prepare(_ cluster: TestCluster, _ client: HTTPTestClient, id: String) throws {
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: Self.keyCount, seed: cluster.nodes[0].address)
        let seeds = cluster.nodes[0..<3].map { "\"\($0.address)\"" }.joined(separator: ",")
        #expect(try client.post("/clusters", #"{"id":"\#(id)","seeds":[\#(seeds)]}"#).status == 201)
        try client.runJob(id, "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)
    }

    /// Polls until the job has moved some but not all slots.
    func waitUntilMidway(_ client: HTTPTestClient, job: Int) throws -> [String: Any] {
        for _ in 0..<3000 {
            let state = try client.get("/jobs/\(job)").object
            let progress = state["progress"] as? [String: Any] ?? [:]
            let done = progress["slots_done"] as? Int ?? 0
            if done > 0 || state["status"] as? String != "running" && state["status"] as? String != "queued" { return state }
            Thread.sleep(forTimeInterval: 0.005)
        }
        throw TestFailure("job \(job) never made progress")
    }

    @Test func killedMidReshardResumesAndFinishes() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-resume-\(UUID().uuidString).sqlite").path
        var service: ServiceProcess? = try ServiceProcess(databasePath: database)
        try prepare(cluster, service!.client, id: "resume")

        let job = try service!.client.submit("resume", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":8192}"#)
        let atKill = try waitUntilMidway(service!.client, job: job)
        service!.kill9()
        service = nil
        let doneAtKill = (atKill["progress"] as? [String: Any])?["slots_done"] as? Int ?? 0
        #expect(atKill["status"] as? String == "running", "the job ended before the kill: \(atKill)")
        #expect(doneAtKill < 8191)

        let restarted = try ServiceProcess(databasePath: database)
        let finished = try restarted.client.waitForJob(job)
        #expect(finished["status"] as? String == "succeeded", "\(finished)")
        // 8192 from three masters is 2731 + 2730 + 2730 = 8191 slots, as redis-cli plans it.
        let total = (finished["plan"] as? [String: Any])?["slots_total"] as? Int ?? -1
        #expect(total == 8191)
        #expect((finished["progress"] as? [String: Any])?["slots_done"] as? Int == total)
        let events = try restarted.client.get("/jobs/\(job)/events").text
        #expect(events.contains("resuming"))

        #expect(cluster.openSlotMarkers().isEmpty, "open slots: \(cluster.openSlotMarkers())")
        cluster.expectClean(from: cluster.nodes[0])
        let topology = try restarted.client.topology("resume")
        #expect(masters(topology)[cluster.nodes[3].address]?["slot_count"] as? Int == total)
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: cluster.nodes[0].address) == Self.keyCount)
        #expect(restarted.terminate() == 0)
    }

    @Test func cancelStopsARunningReshardWithNoSlotOpen() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try prepare(cluster, client, id: "cancel")

        let job = try client.submit("cancel", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":8192}"#)
        _ = try waitUntilMidway(client, job: job)
        let cancel = try client.post("/jobs/\(job)/cancel")
        #expect(cancel.status == 202 || cancel.status == 409, "\(cancel.status) \(cancel.text)")
        let ended = try client.waitForJob(job)
        if cancel.status == 202 {
            #expect(ended["status"] as? String == "cancelled")
            let done = (ended["progress"] as? [String: Any])?["slots_done"] as? Int ?? 0
            #expect(done < 8191)
            let topology = try client.topology("cancel")
            #expect(masters(topology)[cluster.nodes[3].address]?["slot_count"] as? Int == done)
        }
        #expect(try client.post("/jobs/\(job)/cancel").status == 409)
        #expect(cluster.openSlotMarkers().isEmpty, "open slots: \(cluster.openSlotMarkers())")
        cluster.expectClean(from: cluster.nodes[0])
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: cluster.nodes[0].address) == Self.keyCount)
    }
}
