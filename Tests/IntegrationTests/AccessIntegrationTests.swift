import Foundation
import Glibc
import RESP
import Testing

/// The service as run on a network: the real binary with a tokens file, a real cluster with a password, and real
/// HTTP. Who may do what, who is named as having done it, and that no password or token leaks anywhere.
@Suite(.serialized)
struct AccessIntegrationTests {
    static let adminToken = "adm-0123456789abcdef0123456789abcdef"
    static let operatorToken = "ops-0123456789abcdef0123456789abcdef"
    static let readToken = "rd-0123456789abcdef0123456789abcdef"

    static func tokensFile(_ lines: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-tokens-\(UUID().uuidString)").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    static let standardTokens = [
        "# name role token",
        "alice admin \(adminToken)",
        "ci operator \(operatorToken)",
        "", "grafana read \(readToken)",
    ]

    static func databasePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rcm-access-\(UUID().uuidString).sqlite").path
    }

    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm", ".key"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test func eachRoleMayDoWhatItShouldAndNoMoreAndIsNamedForIt() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let tokens = try Self.tokensFile(Self.standardTokens)
        defer { try? FileManager.default.removeItem(atPath: tokens) }
        let database = Self.databasePath()
        defer { Self.removeDatabase(database) }
        let service = try ServiceProcess(databasePath: database, arguments: ["--tokens-file", tokens])
        defer { service.kill9() }
        let anonymous = service.client
        var admin = service.client
        admin.token = Self.adminToken
        var ops = service.client
        ops.token = Self.operatorToken
        var reader = service.client
        reader.token = Self.readToken
        var wrong = service.client
        wrong.token = "not-a-token-of-this-service"

        #expect(try anonymous.get("/healthz").status == 200)
        let missing = try anonymous.get("/clusters")
        #expect(missing.status == 401)
        #expect(missing.headers["www-authenticate"] == #"Bearer realm="redis-cluster-manager""#)
        #expect(missing.headers["content-type"] == "application/problem+json")
        let invalid = try wrong.get("/clusters")
        #expect(invalid.status == 401)
        #expect(invalid.headers["www-authenticate"]?.contains(#"error="invalid_token""#) == true)
        #expect(try anonymous.get("/metrics").status == 401)
        #expect(try reader.get("/metrics").status == 200)

        let register = #"{"id":"prod","seeds":["\#(cluster.nodes[0].address)"]}"#
        let forbidden = try reader.post("/clusters", register)
        #expect(forbidden.status == 403)
        #expect(forbidden.headers["content-type"] == "application/problem+json")
        #expect(forbidden.text.contains("grafana"))
        #expect(try ops.post("/clusters", register).status == 403)
        let registered = try admin.post("/clusters", register)
        #expect(registered.status == 201)
        #expect(registered.object["created_by"] as? String == "alice")
        #expect(try reader.get("/clusters/prod").object["created_by"] as? String == "alice")
        #expect(try reader.get("/clusters/prod/topology").status == 200)

        let job = #"{"node_timeout_ms":6000}"#
        #expect(try reader.post("/clusters/prod/set-timeout", job).status == 403)
        #expect(try reader.post("/clusters/prod/snapshots", "").status == 403)
        #expect(try ops.post("/clusters/prod/snapshots", "").status == 201)
        let submitted = try ops.post("/clusters/prod/set-timeout", job)
        #expect(submitted.status == 202)
        let jobId = try #require(submitted.object["id"] as? Int)
        #expect(submitted.object["actor"] as? String == "ci")
        #expect(try reader.post("/jobs/\(jobId)/cancel", "").status == 403)
        let finished = try reader.waitForJob(jobId)
        #expect(finished["status"] as? String == "succeeded")
        #expect(finished["actor"] as? String == "ci")

        // A cancel is audited under the name of whoever asked.
        let queued = try ops.post("/clusters/prod/set-timeout", #"{"node_timeout_ms":5000}"#)
        let queuedId = try #require(queued.object["id"] as? Int)
        let cancel = try ops.post("/jobs/\(queuedId)/cancel", "")
        #expect([200, 202, 409].contains(cancel.status))
        _ = try reader.waitForJob(queuedId)

        #expect(try ops.delete("/clusters/prod").status == 403)
        #expect(try admin.delete("/clusters/prod").status == 204)

        let audit = try reader.get("/audit?cluster_id=prod").object["items"] as? [[String: Any]] ?? []
        let acts = audit.map { "\($0["action"] as? String ?? "?") by \($0["actor"] as? String ?? "?")" }
        #expect(acts.first == "cluster.delete by alice")
        #expect(acts.last == "cluster.register by alice")
        if cancel.status != 409 {
            #expect(acts.contains("job.cancel by ci"))
            let events = try reader.get("/jobs/\(queuedId)/events").object["items"] as? [[String: Any]] ?? []
            #expect(events.contains { ($0["message"] as? String) == "cancel requested by ci" })
        }
        #expect(audit.allSatisfy { ($0["at"] as? String)?.hasSuffix("Z") == true })
    }

    @Test func sighupReloadsTheTokensFileAndKeepsTheOldOnesWhenTheNewFileIsBroken() throws {
        let tokens = try Self.tokensFile(Self.standardTokens)
        defer { try? FileManager.default.removeItem(atPath: tokens) }
        let database = Self.databasePath()
        defer { Self.removeDatabase(database) }
        let service = try ServiceProcess(databasePath: database, arguments: ["--tokens-file", tokens])
        defer { service.kill9() }
        var reader = service.client
        reader.token = Self.readToken
        var newcomer = service.client
        newcomer.token = "new-0123456789abcdef0123456789abcdef"
        #expect(try reader.get("/clusters").status == 200)
        #expect(try newcomer.get("/clusters").status == 401)

        try (["alice admin \(Self.adminToken)", "dana read \(newcomer.token!)"].joined(separator: "\n") + "\n")
            .write(toFile: tokens, atomically: true, encoding: .utf8)
        service.signal(SIGHUP)
        try waitUntil { try newcomer.get("/clusters").status == 200 }
        #expect(try reader.get("/clusters").status == 401)

        try "dana reader short\n".write(toFile: tokens, atomically: true, encoding: .utf8)
        service.signal(SIGHUP)
        try waitUntil { service.log.contains("kept the tokens loaded before") }
        #expect(try newcomer.get("/clusters").status == 200)
        #expect(!service.log.contains(newcomer.token!))
    }

    @Test func refusesANonLoopbackAddressWithoutATokensFile() throws {
        let database = Self.databasePath()
        defer { Self.removeDatabase(database) }
        let (status, text) = try ServiceProcess.runToExit(["serve", "--listen", "0.0.0.0:\(PortAllocator.redisPort())", "--db", database])
        #expect(status != 0)
        #expect(text.contains("without a tokens file"))
        #expect(!FileManager.default.fileExists(atPath: database))
    }

    @Test func aTokensFileWithAnErrorStopsTheStartNamingTheLine() throws {
        let tokens = try Self.tokensFile(["alice admin \(Self.adminToken)", "bob superuser \(Self.readToken)"])
        defer { try? FileManager.default.removeItem(atPath: tokens) }
        let database = Self.databasePath()
        defer { Self.removeDatabase(database) }
        let (status, text) = try ServiceProcess.runToExit(["serve", "--listen", "127.0.0.1:\(PortAllocator.redisPort())", "--db", database,
                                                          "--tokens-file", tokens])
        #expect(status != 0)
        #expect(text.contains("line 2: ROLE must be read, operator or admin"))
        #expect(!text.contains(Self.readToken))
    }

    /// Every response, the log, and the database file are searched for the cluster password and every token.
    @Test func noPasswordOrTokenInAnyResponseTheLogOrTheDatabaseFile() throws {
        let password = "pw-Secret-4f9c2e71-never-shown"
        let cluster = try TestCluster(nodes: 4, password: password)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 2000, seed: cluster.nodes[0].address, credentials: RedisCredentials(password: password))
        let tokens = try Self.tokensFile(Self.standardTokens)
        defer { try? FileManager.default.removeItem(atPath: tokens) }
        let database = Self.databasePath()
        defer { Self.removeDatabase(database) }
        var service: ServiceProcess? = try ServiceProcess(databasePath: database, arguments: ["--tokens-file", tokens])
        var admin = service!.client
        admin.token = Self.adminToken
        var responses: [HTTPTestClient.Response] = []
        func record(_ response: HTTPTestClient.Response) -> HTTPTestClient.Response {
            responses.append(response)
            return response
        }
        let seed = cluster.nodes[0].address
        // Refusals that carry the password in their request must not echo it.
        #expect(record(try admin.post("/clusters", #"{"id":"bad","seeds":["\#(seed)"],"password":"\#(password)x"}"#)).status == 422)
        #expect(record(try admin.post("/clusters", #"{"id":"bad","seeds":["\#(seed)"],"password":"\#(password)","extra":1}"#)).status == 400)
        #expect(record(try admin.post("/clusters", #"{"id":"Bad!","seeds":["\#(seed)"],"password":"\#(password)"}"#)).status == 400)
        #expect(record(try admin.post("/clusters", #"{"id":"s","seeds":["\#(seed)"],"password":"\#(password)"}"#)).status == 201)
        #expect(record(try admin.get("/clusters")).status == 200)
        #expect(record(try admin.get("/clusters/s")).object["has_password"] as? Bool == true)
        #expect(record(try admin.get("/clusters/s/topology")).status == 200)
        #expect(record(try admin.post("/clusters/s/snapshots", "")).status == 201)
        let addNode = record(try admin.post("/clusters/s/add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#))
        let addId = try #require(addNode.object["id"] as? Int)
        _ = try admin.waitForJob(addId)
        let reshard = record(try admin.post("/clusters/s/reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":200}"#))
        let reshardId = try #require(reshard.object["id"] as? Int)
        #expect(try admin.waitForJob(reshardId)["status"] as? String == "succeeded")
        for path in ["/jobs/\(addId)", "/jobs/\(reshardId)", "/jobs/\(reshardId)/events", "/jobs?cluster_id=s",
                     "/clusters/s/snapshots", "/metrics", "/audit"] {
            #expect(record(try admin.get(path)).status == 200, "\(path)")
        }
        let snapshots = try admin.get("/clusters/s/snapshots").object["items"] as? [[String: Any]] ?? []
        for snapshot in snapshots {
            #expect(record(try admin.get("/clusters/s/snapshots/\(snapshot["id"] as? Int ?? 0)")).status == 200)
        }
        // A dry run and a failing job: plans and error messages too.
        #expect(record(try admin.post("/clusters/s/reshard", #"{"to":"\#(cluster.nodes[3].address)","slots":10,"dry_run":true}"#)).status == 200)
        let log = service!.log
        _ = service!.terminate()
        service = nil

        let secrets = [password, Self.adminToken, Self.operatorToken, Self.readToken]
        for response in responses {
            let whole = response.headers.map { "\($0): \($1)" }.joined(separator: "\n") + "\n" + response.text
            for secret in secrets {
                #expect(!whole.contains(secret), "a response contains a secret: \(whole.prefix(300))")
            }
        }
        for secret in secrets {
            #expect(!log.contains(secret), "the log contains a secret")
        }
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: database + suffix) else { continue }
            for secret in secrets {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(database + suffix) contains a secret")
            }
        }
        for file in [database, database + ".key"] {
            var info = stat()
            #expect(stat(file, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600, "\(file) has mode \(String(info.st_mode & 0o777, radix: 8))")
        }

        // The same key opens the sealed password after a restart: the cluster is still usable.
        let again = try ServiceProcess(databasePath: database, arguments: ["--tokens-file", tokens])
        defer { again.kill9() }
        var adminAgain = again.client
        adminAgain.token = Self.adminToken
        let topology = try adminAgain.get("/clusters/s/topology")
        #expect(topology.status == 200)
        #expect((topology.object["nodes"] as? [Any])?.count == 4)
    }

    func waitUntil(_ condition: () throws -> Bool) throws {
        for _ in 0..<200 {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("condition never held")
    }
}
