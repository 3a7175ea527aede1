import Foundation
import Glibc
import Testing

/// A token revoked by SIGHUP ends the event streams it opened, at once, while the job runs on; streams opened with
/// a token that stays keep flowing.
@Suite(.serialized)
struct RevokedTokenStreamTests {
    @Test func aRevokedTokensStreamsEndAtTheReload() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 20_000, seed: cluster.nodes[0].address)
        let tokens = try AccessIntegrationTests.tokensFile(AccessIntegrationTests.standardTokens)
        defer { try? FileManager.default.removeItem(atPath: tokens) }
        let database = AccessIntegrationTests.databasePath()
        defer { AccessIntegrationTests.removeDatabase(database) }
        let service = try ServiceProcess(databasePath: database, arguments: ["--tokens-file", tokens])
        defer { service.kill9() }
        var admin = service.client
        admin.token = AccessIntegrationTests.adminToken
        #expect(try admin.post("/clusters", #"{"id":"rv","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        try admin.runJob("rv", "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)
        // A slow move: it runs for minutes unless cancelled.
        let job = try admin.submit("rv", "reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":4096,"max_keys_per_second":50}"#)
        func stream(_ token: String) throws -> RawHTTPConnection {
            let connection = try RawHTTPConnection(port: service.port, request: "GET /jobs/\(job)/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                   + "Authorization: Bearer \(token)\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n")
            connection.read(timeout: 10) { $0.contains("event: progress") }
            return connection
        }
        let reader = try stream(AccessIntegrationTests.readToken)
        let operatorStream = try stream(AccessIntegrationTests.operatorToken)
        #expect(reader.text.contains("event: progress") && operatorStream.text.contains("event: progress"), "\(reader.text.prefix(300))")

        // The read token is removed and the file reloaded.
        try (["alice admin \(AccessIntegrationTests.adminToken)", "ci operator \(AccessIntegrationTests.operatorToken)"]
                .joined(separator: "\n") + "\n").write(toFile: tokens, atomically: true, encoding: .utf8)
        service.signal(SIGHUP)
        // Read to the end of the stream: it ends within seconds, not when the job does.
        let started = Date()
        reader.read(timeout: 20)
        #expect(Date().timeIntervalSince(started) < 10, "the revoked token's stream kept flowing")
        #expect(reader.text.contains("token revoked"), "\(reader.text.suffix(300))")
        let before = operatorStream.read(timeout: 2).count
        #expect(operatorStream.read(timeout: 3).count > before && !operatorStream.text.contains("token revoked"),
                "a stream of a token that stays was ended")
        #expect(try admin.post("/jobs/\(job)/cancel", "").status == 202)
        #expect(try admin.waitForJob(job, timeout: 60)["status"] as? String == "cancelled")
    }
}
