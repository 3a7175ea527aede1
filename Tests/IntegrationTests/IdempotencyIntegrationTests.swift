import Foundation
import Testing

/// A retried CI step never starts a second job: `Idempotency-Key` on job submissions, per token, kept in SQLite.
@Suite(.serialized)
struct IdempotencyIntegrationTests {
    @Test func aRetryAnswersTheFirstJobAndSurvivesARestart() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let service = try SecuredService()
        defer { service.stop() }
        var admin = service.admin
        #expect(try admin.post("/clusters", #"{"id":"idem","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        try admin.runJob("idem", "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)

        let body = #"{"to":"\#(cluster.nodes[3].address)","slots":100}"#
        let key = [("Idempotency-Key", "deploy-42-reshard")]
        let first = try admin.request("POST", "/clusters/idem/reshard", body: body, headers: key)
        #expect(first.status == 202)
        let jobId = try #require(first.object["id"] as? Int)
        let retry = try admin.request("POST", "/clusters/idem/reshard", body: body, headers: key)
        #expect(retry.status == 200)
        #expect(retry.object["id"] as? Int == jobId)
        #expect(retry.headers["location"] == "/jobs/\(jobId)")

        // The same key with another body, or on another endpoint, is refused and starts nothing.
        let other = try admin.request("POST", "/clusters/idem/reshard", body: #"{"to":"\#(cluster.nodes[3].address)","slots":101}"#,
                                      headers: key)
        #expect(other.status == 422)
        #expect(other.object["code"] as? String == "idempotency_key_reused")
        #expect(try admin.request("POST", "/clusters/idem/set-timeout", body: #"{"node_timeout_ms":5000}"#, headers: key).status == 422)
        // Bad keys are a 400.
        #expect(try admin.request("POST", "/clusters/idem/reshard", body: body, headers: [("Idempotency-Key", "")]).status == 400)
        #expect(try admin.request("POST", "/clusters/idem/reshard", body: body,
                                  headers: [("Idempotency-Key", String(repeating: "k", count: 256))]).status == 400)
        #expect(try admin.waitForJob(jobId)["status"] as? String == "succeeded")

        // Kept per token: another token's same key is its own.
        let ops = service.client(AccessIntegrationTests.operatorToken)
        let theirs = try ops.request("POST", "/clusters/idem/set-timeout", body: #"{"node_timeout_ms":5000}"#, headers: key)
        #expect(theirs.status == 202)
        #expect(theirs.object["id"] as? Int != jobId)
        _ = try ops.waitForJob(try #require(theirs.object["id"] as? Int))

        // Kept in SQLite: after kill -9 and a restart the retry still answers the first job.
        try service.restart()
        admin = service.admin
        let afterRestart = try admin.request("POST", "/clusters/idem/reshard", body: body, headers: key)
        #expect(afterRestart.status == 200)
        #expect(afterRestart.object["id"] as? Int == jobId)
        let jobs = try admin.get("/jobs?cluster_id=idem&type=reshard").object["items"] as? [[String: Any]] ?? []
        #expect(jobs.count == 1, "one reshard, however many retries")

        // The CLI sends it too: the same command twice makes one job.
        let server = service.url
        let arguments = ["set-timeout", "idem", "--node-timeout-ms", "6000", "--idempotency-key", "ci-run-7", "--json"]
        let once = try CLIIntegrationTests.cli(arguments, server: server, token: AccessIntegrationTests.adminToken)
        let twice = try CLIIntegrationTests.cli(arguments, server: server, token: AccessIntegrationTests.adminToken)
        #expect(once.status == 0 && twice.status == 0)
        let onceId = (try? JSONSerialization.jsonObject(with: Data(once.output.utf8)) as? [String: Any])?["id"] as? Int
        let twiceId = (try? JSONSerialization.jsonObject(with: Data(twice.output.utf8)) as? [String: Any])?["id"] as? Int
        #expect(onceId != nil && onceId == twiceId)
        _ = try admin.waitForJob(onceId ?? 0)
    }
}
