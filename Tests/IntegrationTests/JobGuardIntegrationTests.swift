import Foundation
import Jobs
import SQLite
import Store
import Testing

/// Job records never contradict what happened: a job answered as cancelled never runs, and a store that cannot
/// be written answers 503 and loses nothing it had recorded.
@Suite(.serialized)
struct JobGuardIntegrationTests {
    /// Submit-then-cancel at once, many times, against a real node and the real worker: whenever the API answered
    /// `cancelled`, the job never started and its command never reached the node.
    @Test func aJobAnsweredCancelledNeverRuns() throws {
        let cluster = try TestCluster(nodes: 1)
        defer { cluster.stop() }
        let node = cluster.nodes[0]
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"race","seeds":["\#(node.address)"]}"#).status == 201)

        var answeredCancelled = 0
        for attempt in 0..<40 {
            let timeout = 3000 + attempt
            let id = try client.submit("race", "set-timeout", #"{"node_timeout_ms":\#(timeout)}"#)
            let cancel = try client.post("/jobs/\(id)/cancel")
            let job = try client.waitForJob(id, timeout: 30)
            switch cancel.status {
            case 200:
                answeredCancelled += 1
                #expect(cancel.object["status"] as? String == "cancelled")
                #expect(job["status"] as? String == "cancelled", "job \(id) was answered cancelled, then \(job)")
                #expect(job["started_at"] is NSNull, "job \(id) was answered cancelled but started")
                let events = try client.get("/jobs/\(id)/events").object["items"] as? [[String: Any]] ?? []
                #expect(!events.contains { ($0["message"] as? String ?? "").hasPrefix("started") })
                let current = try node.cli(["CONFIG", "GET", "cluster-node-timeout"])
                #expect(!current.contains("\(timeout)"), "job \(id) was answered cancelled, yet the node got its timeout")
            case 202:
                #expect(["succeeded", "cancelled"].contains(job["status"] as? String ?? ""), "\(job)")
            case 409:
                #expect(job["status"] as? String == "succeeded", "\(job)")
            default:
                Issue.record("cancel answered \(cancel.status): \(cancel.text)")
            }
        }
        // The race is real: some cancels land while queued (the wait is in the worker's planning read).
        #expect(answeredCancelled > 0)
    }

    /// Under a file-size limit the store's writes fail part way: the API answers 503 problem+json (never 500),
    /// reads and health go on, and after a restart without the limit every record answered 201 is there, the
    /// refused ones are not, and the database is intact.
    @Test func aFullStoreAnswers503AndLosesNothing() throws {
        let cluster = try TestCluster(nodes: 1)
        defer { cluster.stop() }
        let node = cluster.nodes[0]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-full-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".key"] { try? FileManager.default.removeItem(atPath: path + suffix) } }

        // The schema first, without a limit; then a limit a little above the file the schema made.
        let first = try ServiceProcess(databasePath: path)
        #expect(first.terminate() == 0)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let limited = try ServiceProcess(databasePath: path, fileSizeLimit: max(size, 64 * 1024) + 16 * 1024)
        let client = limited.client

        var registered: [String] = []
        var refused = 0
        for index in 0..<200 where refused < 3 {
            let response = try client.post("/clusters", #"{"id":"c\#(index)","seeds":["\#(node.address)"]}"#)
            switch response.status {
            case 201: registered.append("c\(index)")
            case 503:
                refused += 1
                #expect(response.headers["content-type"] == "application/problem+json")
                #expect(response.headers["retry-after"] != nil)
                #expect((response.object["detail"] as? String ?? "").contains("unavailable"), "\(response.text)")
            default: Issue.record("registration answered \(response.status): \(response.text)")
            }
        }
        #expect(refused > 0, "the limit never stopped a write; log:\n\(limited.log)")
        #expect(try client.get("/healthz").status == 200)
        let job = try client.post("/clusters/\(registered.first ?? "c0")/set-timeout", #"{"node_timeout_ms":4000}"#)
        #expect([202, 503].contains(job.status), "\(job.status) \(job.text)")
        #expect(limited.terminate() == 0)

        let restarted = try ServiceProcess(databasePath: path)
        let listed = (try restarted.client.get("/clusters").object["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Set(listed) == Set(registered))
        #expect(restarted.terminate() == 0)
        let check = try Database(path: path).read { db in try db.query("PRAGMA integrity_check").first?[0].string }
        #expect(check == "ok")
    }
}

extension JobGuardIntegrationTests {
    /// A job found running at start-up resumes with its stored plan; a plan that cannot be read fails the job with
    /// a clear error instead of being planned again (which would move a half-done reshard's slots twice).
    @Test func anUnreadableStoredPlanFailsTheJobInsteadOfPlanningAgain() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-plan-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".key"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let store = try Store(path: path)
            try store.insertCluster(ClusterRecord(id: "p", seeds: ["127.0.0.1:1"], username: nil, password: nil,
                                                  createdAt: Timestamp.now(), updatedAt: Timestamp.now()))
            let job = try store.insertJob(clusterId: "p", type: "reshard",
                                          params: #"{"to":"127.0.0.1:2","slots":100,"replace":false}"#, actor: "test")
            _ = try store.startJob(jobId: job.id, plan: #"{"summary":"half a plan","moves":[{"from":"#,
                                   slotsTotal: 100, snapshotBefore: nil)
        }
        let service = try TestService(databasePath: path)
        defer { service.stop() }
        let job = try service.client.waitForJob(1, timeout: 30)
        #expect(job["status"] as? String == "failed")
        let error = job["error"] as? [String: Any] ?? [:]
        #expect(error["code"] as? String == "plan_unreadable")
        #expect((error["message"] as? String ?? "").contains("not planned again"))
        // Nothing was planned or taken from the (unreachable) cluster: no snapshot was even attempted.
        #expect(job["snapshot_before"] is NSNull)
    }
}

extension JobGuardIntegrationTests {
    /// While another process holds the database's write lock past the busy timeout, the worker leaves the job
    /// queued and retries after pauses that double, instead of spinning; once the lock is gone the job goes on.
    @Test func theWorkerBacksOffWhileTheStoreIsLocked() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-lock-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".key"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try Store(path: path, busyTimeoutMilliseconds: 50)
        try store.insertCluster(ClusterRecord(id: "l", seeds: ["127.0.0.1:1"], username: nil, password: nil,
                                              createdAt: Timestamp.now(), updatedAt: Timestamp.now()))
        let job = try store.insertJob(clusterId: "l", type: "set-timeout", params: #"{"node_timeout_ms":4000}"#, actor: "test")
        let other = try Database(path: path)
        try other.read { db in try db.executeScript("BEGIN IMMEDIATE") }

        let lines = LogLines()
        let worker = JobWorker(store: store, log: { lines.append($0) })
        worker.start()
        defer { worker.stop() }
        var retries: [String] = []
        let seen = Date().addingTimeInterval(20)
        while Date() < seen, retries.count < 2 {
            Thread.sleep(forTimeInterval: 0.05)
            retries = lines.all.filter { $0.contains("retrying in") }
        }
        // Each failed attempt doubles the pause before the next one.
        #expect(retries.count >= 2, "\(lines.all)")
        #expect(retries.first?.contains("retrying in 0.5s") == true, "\(retries)")
        #expect(retries.dropFirst().first?.contains("retrying in 1.0s") == true, "\(retries)")
        // A worker that ignored its pauses would already be at the 30 s cap, many attempts on; this one has made
        // its second (the third comes only after a 1 s pause).
        #expect(!lines.all.contains { $0.contains("retrying in 30.0s") }, "\(lines.all)")
        #expect(try store.job(job.id)?.status == .queued)

        try other.read { db in try db.executeScript("COMMIT") }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, try store.job(job.id)?.status.isFinished != true {
            Thread.sleep(forTimeInterval: 0.1)
        }
        // The seed is unreachable, so the job fails at planning; what matters is that it was not left behind.
        let final = try #require(try store.job(job.id))
        #expect(final.status.isFinished, "job still \(final.status) after the lock was released; log: \(lines.all)")
    }
}

private final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
