import Foundation
import Store
import Testing

/// Long polls and live event streams over a real socket. The worker is not started: the tests move the job
/// through the store themselves, exactly as the worker would, so every change is under their control.
@Suite(.serialized)
struct JobStreamIntegrationTests {
    let service: TestService
    let store: Store

    init() throws {
        service = try TestService(heartbeat: 0.3, startWorker: false)
        store = service.store
        try store.insertCluster(ClusterRecord(id: "s", seeds: ["127.0.0.1:7000"], username: nil, password: nil,
                                              createdAt: Timestamp.now(), updatedAt: Timestamp.now()))
    }

    func queuedJob() throws -> JobRecord {
        try store.insertJob(clusterId: "s", type: "reshard", params: #"{"to":"x","slots":1,"replace":false}"#, actor: "test")
    }

    func get(_ target: String, headers: String = "") throws -> RawHTTPConnection {
        try RawHTTPConnection(port: service.server.port,
                              request: "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)Connection: close\r\n\r\n")
    }

    @Test func twoThousandParkedWaitsAreAllAnsweredWhenTheJobEnds() throws {
        defer { service.stop() }
        let job = try queuedJob()
        let waits = try (0..<2000).map { _ in try get("/jobs/\(job.id)?wait=120") }
        // Parked, they hold no thread: the service still answers at once.
        let health = try service.client.get("/healthz")
        #expect(health.status == 200)
        #expect(waits.allSatisfy { $0.read(timeout: 0) == "" })

        _ = try #require(try store.startJob(jobId: job.id, plan: #"{"summary":"s"}"#, slotsTotal: 1, snapshotBefore: nil))
        try store.finishJob(jobId: job.id, from: .running, to: .succeeded)
        var answered = 0
        for wait in waits {
            wait.read(timeout: 30) { $0.contains("\r\n\r\n") && $0.hasSuffix("}") }
            if wait.status == 200, wait.jsonBody["status"] as? String == "succeeded" { answered += 1 }
        }
        #expect(answered == 2000)
    }

    @Test func aWaitThatRunsOutAnswersTheJobAsItStands() throws {
        defer { service.stop() }
        let job = try queuedJob()
        let wait = try get("/jobs/\(job.id)?wait=0.3")
        wait.read(timeout: 10) { $0.contains("\r\n\r\n") && $0.hasSuffix("}") }
        #expect(wait.status == 200)
        #expect(wait.jsonBody["status"] as? String == "queued")
    }

    @Test func theStreamCarriesEventsProgressAndTheFinalJobThenCloses() throws {
        defer { service.stop() }
        let job = try queuedJob()
        _ = try store.startJob(jobId: job.id, plan: #"{"summary":"s"}"#, slotsTotal: 10, snapshotBefore: nil)
        let early = try store.appendEvent(jobId: job.id, message: "before the stream")
        let stream = try get("/jobs/\(job.id)/events", headers: "Accept: text/event-stream\r\n")
        stream.read(timeout: 10) { $0.contains("before the stream") && $0.contains("event: progress") }
        #expect(stream.status == 200)
        #expect(stream.text.lowercased().contains("content-type: text/event-stream"))

        let live = try store.appendEvent(jobId: job.id, message: "moved slot 7", node: "127.0.0.1:7000")
        try store.updateProgress(jobId: job.id, step: "moving slots", slotsDone: 5, keysMoved: 50)
        stream.read(timeout: 10) { $0.contains("moved slot 7") && $0.contains(#""slots_done":5"#) }
        // Idle, the stream gets comment heartbeats.
        stream.read(timeout: 10) { $0.contains(": heartbeat") }
        try store.appendEvent(jobId: job.id, message: "last words")
        try store.finishJob(jobId: job.id, from: .running, to: .succeeded)
        let text = stream.read(timeout: 10)

        #expect(text.contains("id: \(early.id)\nevent: event\n"))
        #expect(text.contains("id: \(live.id)\nevent: event\n"))
        #expect(text.contains(": heartbeat"))
        let order = ["before the stream", "moved slot 7", #""slots_done":5"#, "last words", "event: job\ndata:"]
        let positions = order.map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil }, "\(text)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "out of order:\n\(text)")
        let finalLine = text.components(separatedBy: "event: job\ndata: ").last?.components(separatedBy: "\n").first ?? ""
        let final = (try? JSONSerialization.jsonObject(with: Data(finalLine.utf8))) as? [String: Any] ?? [:]
        #expect(final["status"] as? String == "succeeded")
        #expect(stream.isClosedByPeer(timeout: 5))
    }

    @Test func lastEventIdResumesAfterThatEvent() throws {
        defer { service.stop() }
        let job = try queuedJob()
        _ = try store.startJob(jobId: job.id, plan: #"{"summary":"s"}"#, slotsTotal: 0, snapshotBefore: nil)
        let first = try store.appendEvent(jobId: job.id, message: "first")
        try store.appendEvent(jobId: job.id, message: "second")
        try store.finishJob(jobId: job.id, from: .running, to: .failed, errorCode: "x", errorMessage: "y")
        // A finished job: the log after the given id, the final job, and close.
        let resumed = try get("/jobs/\(job.id)/events", headers: "Accept: text/event-stream\r\nLast-Event-ID: \(first.id)\r\n")
        let text = resumed.read(timeout: 10)
        #expect(!text.contains(#""message":"first""#))
        #expect(text.contains(#""message":"second""#))
        #expect(text.contains("event: job\n"))
        #expect(resumed.isClosedByPeer(timeout: 5))

        let bad = try get("/jobs/\(job.id)/events", headers: "Accept: text/event-stream\r\nLast-Event-ID: soon\r\n")
        bad.read(timeout: 10) { $0.contains("\r\n\r\n") && $0.hasSuffix("}") }
        #expect(bad.status == 400)
    }

    @Test func withoutTheStreamHeaderEventsAreAJSONList() throws {
        defer { service.stop() }
        let job = try queuedJob()
        try store.appendEvent(jobId: job.id, message: "one")
        let response = try service.client.get("/jobs/\(job.id)/events")
        #expect(response.status == 200)
        #expect((response.object["items"] as? [[String: Any]])?.first?["message"] as? String == "one")
    }
}
