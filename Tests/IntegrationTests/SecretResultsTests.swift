import Foundation
import Testing

/// `call` results never keep a secret: CONFIG GET of a password setting and ACL password hashes are stored
/// redacted, so no answer, event or database file holds them.
@Suite(.serialized)
struct SecretResultsTests {
    @Test func configGetAndACLRepliesAreStoredRedacted() throws {
        let cluster = try TestCluster(nodes: 3, password: "s3cret-pw")
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        for node in cluster.nodes { try node.cli(["ACL", "SETUSER", "ops", "on", ">ops-pw-123", "~*", "+@all"]) }
        let hash = try RedisNodeProcess.run("/bin/sh", ["-c", "printf %s ops-pw-123 | sha256sum"]).split(separator: " ").first.map(String.init) ?? "?"
        #expect(hash.count == 64)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"sec","seeds":["\#(cluster.nodes[0].address)"],"password":"s3cret-pw"}"#).status == 201)
        let commands = [#"["CONFIG","GET","requirepass"]"#, #"["CONFIG","GET","*"]"#, #"["ACL","LIST"]"#, #"["ACL","GETUSER","ops"]"#]
        var ids: [Int] = []
        for command in commands {
            let job = try client.runJob("sec", "call", #"{"command":\#(command),"nodes":"masters"}"#)
            ids.append(job["id"] as? Int ?? 0)
            let text = String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self)
            #expect(text.contains("<redacted>"), "\(command): \(text.prefix(400))")
        }
        // Every answer, event and file the service wrote.
        var seen = try client.get("/jobs?cluster_id=sec").text
        for id in ids { seen += try client.get("/jobs/\(id)").text + client.get("/jobs/\(id)/events").text }
        for suffix in ["", "-wal"] {
            seen += String(decoding: (FileManager.default.contents(atPath: service.databasePath + suffix) ?? Data()), as: UTF8.self)
        }
        #expect(!seen.contains("s3cret-pw"), "the cluster password was stored or shown")
        #expect(!seen.contains(hash), "an ACL password hash was stored or shown")
        #expect(!seen.contains("ops-pw-123"))
        // What is not secret stays: CONFIG GET * still answers its other settings.
        #expect(seen.contains("maxmemory-policy"))
    }

    /// A job's result (what a command answered) is for operators and admins: a read token sees null, in the job,
    /// the list, a long poll and the event stream.
    @Test func resultsAreNotShownToReadTokens() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try SecuredService()
        defer { service.stop() }
        #expect(try service.admin.post("/clusters", #"{"id":"r","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        let job = try service.admin.runJob("r", "call", #"{"command":["CONFIG","GET","maxmemory-policy"],"nodes":"masters"}"#)
        let id = job["id"] as? Int ?? 0
        #expect((job["result"] as? [String: Any])?["replies"] != nil, "the admin sees the replies")
        let reader = service.reader
        #expect(try reader.get("/jobs/\(id)").object["result"] is NSNull)
        #expect(try reader.get("/jobs/\(id)?wait=1").object["result"] is NSNull)
        // The reply's value appears only in the result (the setting's name is in the params too).
        #expect(!(try reader.get("/jobs?cluster_id=r").text.contains("noeviction")))
        let stream = try reader.request("GET", "/jobs/\(id)/events", headers: [("Accept", "text/event-stream")])
        #expect(stream.status == 200 && stream.text.contains("event: job") && !stream.text.contains("noeviction"), "\(stream.text.prefix(300))")
        #expect(try service.client(AccessIntegrationTests.operatorToken).get("/jobs/\(id)").text.contains("noeviction"))
    }
}
