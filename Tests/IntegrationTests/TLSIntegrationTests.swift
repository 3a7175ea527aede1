import ClusterModel
import ClusterOps
import Foundation
import RESP
import Testing

/// Clusters of TLS-only redis-server nodes (`--port 0 --tls-port`, cluster bus and replication over TLS, client
/// certificates required) driven through the real service over HTTP: registration checks the certificates and files,
/// and every operation (create, topology, add-node, reshard, fix, failover, del-node) works over TLS.
@Suite(.serialized)
struct TLSIntegrationTests {
    typealias Probe = JobOpsProbe

    static let keyCount = 20_000

    /// The registration's `tls` object for `certificates`, with `changes` applied (nil removes a field).
    static func tlsJSON(_ certificates: TestCertificates, _ changes: [String: String?] = [:]) -> String {
        var fields: [String: String] = ["ca_file": certificates.caFile, "cert_file": certificates.clientCertificate,
                                        "key_file": certificates.clientKey]
        for (name, value) in changes { fields[name] = value }
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    @Test func registrationChecksCertificatesAndFilesAndStoresNothingOnFailure() throws {
        let certificates = try TestCertificates()
        let cluster = try TestCluster(nodes: 1, tls: certificates, authClients: "yes")
        defer { cluster.stop() }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        let seed = cluster.nodes[0].address

        func register(_ tls: String) throws -> HTTPTestClient.Response {
            try client.post("/clusters", #"{"id":"tls","seeds":["\#(seed)"],"tls":\#(tls)}"#)
        }
        func expectProblem(_ status: Int, code: String?, mentioning text: String, _ tls: String,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
            let response = try register(tls)
            #expect(response.status == status, "\(tls): \(response.status) \(response.text)", sourceLocation: sourceLocation)
            #expect(response.headers["content-type"] == "application/problem+json", sourceLocation: sourceLocation)
            let detail = response.object["detail"] as? String ?? ""
            #expect(detail.contains(text), "\(tls): \(detail)", sourceLocation: sourceLocation)
            if let code {
                #expect(response.object["code"] as? String == code, "\(response.text)", sourceLocation: sourceLocation)
            }
        }

        // The nodes' certificates do not verify, or do not carry the expected name, or refuse a client without one.
        try expectProblem(422, code: "tls_failed", mentioning: "certificate verify failed: self-signed certificate in certificate chain",
                          Self.tlsJSON(certificates, ["ca_file": certificates.otherCAFile]))
        try expectProblem(422, code: "tls_failed", mentioning: "certificate verify failed: hostname mismatch",
                          Self.tlsJSON(certificates, ["server_name": "redis.example.com"]))
        // An empty object trusts the system's CA store, which does not know the test CA.
        try expectProblem(422, code: "tls_failed", mentioning: "certificate verify failed: ", "{}")
        try expectProblem(422, code: "tls_failed", mentioning: "certificate required",
                          Self.tlsJSON(certificates, ["cert_file": nil, "key_file": nil]))
        // Files that cannot be used are named, with the reason.
        try expectProblem(422, code: "tls_config", mentioning: "cannot read ca_file '/nonexistent/ca.pem': No such file or directory",
                          Self.tlsJSON(certificates, ["ca_file": "/nonexistent/ca.pem"]))
        // A FIFO would block whoever opens it: refused at once, and the service answers on.
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-fifo-\(UUID().uuidString)").path
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        try expectProblem(422, code: "tls_config", mentioning: "it is not a regular file", Self.tlsJSON(certificates, ["ca_file": fifo]))
        #expect(try client.get("/healthz").status == 200)
        try expectProblem(422, code: "tls_config", mentioning: "does not match cert_file",
                          Self.tlsJSON(certificates, ["key_file": certificates.serverKey]))
        try expectProblem(422, code: "tls_config", mentioning: "holds no usable PEM certificate",
                          Self.tlsJSON(certificates, ["ca_file": certificates.clientKey]))
        // Malformed objects.
        try expectProblem(400, code: nil, mentioning: "must be given together", Self.tlsJSON(certificates, ["key_file": nil]))
        try expectProblem(400, code: nil, mentioning: "absolute path", Self.tlsJSON(certificates, ["ca_file": "ca.pem"]))
        try expectProblem(400, code: nil, mentioning: "unknown field 'ca'", #"{"ca":"/x"}"#)
        try expectProblem(400, code: nil, mentioning: "must be an object", #""yes""#)
        // Plain TCP to a TLS-only node does not get through either.
        let plain = try client.post("/clusters", #"{"id":"tls","seeds":["\#(seed)"]}"#)
        #expect(plain.status == 422, "\(plain.text)")
        #expect((try client.get("/clusters").object["items"] as? [Any])?.isEmpty == true)

        // The right certificates: registered, and the view shows the paths only.
        let registered = try register(Self.tlsJSON(certificates, ["server_name": "localhost"]))
        #expect(registered.status == 201, "\(registered.text)")
        let view = try client.get("/clusters/tls").object
        #expect(view["tls"] as? [String: String] == [
            "ca_file": certificates.caFile, "cert_file": certificates.clientCertificate, "key_file": certificates.clientKey,
            "server_name": "localhost",
        ])
        #expect(!(try client.get("/clusters/tls").text.contains("BEGIN")))
    }

    @Test func pooledConnectionsAreKeyedByTLSConfiguration() throws {
        let certificates = try TestCertificates()
        let cluster = try TestCluster(nodes: 1, tls: certificates, authClients: "optional")
        defer { cluster.stop() }
        let endpoint = RedisEndpoint(cluster.nodes[0].address)!
        let pool = ConnectionPool()
        var anonymous = certificates.client
        anonymous.certificateFile = nil
        anonymous.keyFile = nil

        let verified = try pool.checkout(endpoint, credentials: nil, tls: certificates.client, connectTimeout: 2, readTimeout: 5)
        let id = try #require(try verified.command(["CLIENT", "ID"]).int)
        pool.checkin(verified)
        #expect(pool.idleCount == 1)
        // Another configuration for the same address (here: without the client certificate) gets its own connection,
        // and plain TCP never gets a TLS one (the node refuses it).
        let other = try pool.checkout(endpoint, credentials: nil, tls: anonymous, connectTimeout: 2, readTimeout: 5)
        #expect(try other.command(["CLIENT", "ID"]).int != id)
        #expect(throws: RedisError.self) {
            let plain = try pool.checkout(endpoint, credentials: nil, connectTimeout: 2, readTimeout: 5)
            _ = try plain.command(["PING"])
        }
        pool.checkin(other)
        #expect(pool.idleCount == 2)
        // The same configuration gets its idle connection back, still usable after the server's session tickets.
        let again = try pool.checkout(endpoint, credentials: nil, tls: certificates.client, connectTimeout: 2, readTimeout: 5)
        #expect(try again.command(["CLIENT", "ID"]).int == id)
        pool.checkin(again)
    }

    @Test func everyOperationWorksOnATLSCluster() throws {
        let certificates = try TestCertificates()
        let cluster = try TestCluster(nodes: 7, tls: certificates, authClients: "yes")
        defer { cluster.stop() }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        let nodes = cluster.nodes
        let tls = certificates.client

        // register six empty nodes, then create 3 masters with a replica each
        let seeds = nodes[0..<6].map { "\"\($0.address)\"" }.joined(separator: ",")
        let registered = try client.post("/clusters", #"{"id":"tls","seeds":[\#(seeds)],"tls":\#(Self.tlsJSON(certificates))}"#)
        #expect(registered.status == 201, "\(registered.text)")
        try client.runJob("tls", "create", #"{"replicas":1}"#)
        try cluster.waitUntilConsistent(Array(nodes[0..<6]))
        cluster.expectClean(from: nodes[0])
        var topology = try client.topology("tls")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 3)
        #expect((topology["summary"] as? [String: Any])?["replicas"] as? Int == 3)
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true, "\(topology["checks"] ?? "")")

        try ClusterKeys.write(count: Self.keyCount, seed: nodes[0].address, tls: tls)

        // add-node (a node named only in the request), then reshard to it: MIGRATE between TLS nodes moves the keys
        let newMaster = nodes[6]
        try client.runJob("tls", "add-node", #"{"address":"\#(newMaster.address)","role":"master"}"#)
        cluster.expectClean(from: nodes[0])
        let reshard = try client.runJob("tls", "reshard", #"{"to":"\#(newMaster.address)","slots":4096}"#)
        #expect((reshard["progress"] as? [String: Any])?["slots_done"] as? Int == 4096)
        #expect(((reshard["progress"] as? [String: Any])?["keys_moved"] as? Int ?? 0) > 4000)
        cluster.expectSettled(from: nodes[0])
        #expect(try Probe.myself(newMaster).slots.count == 4096)
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: nodes[0].address, tls: tls) == Self.keyCount)

        // fix: a slot opened by hand (MIGRATING on its owner, IMPORTING on another master) is closed, keys kept
        let slot = HashSlot.slot(for: Array(ClusterKeys.key(0).utf8))
        let owner = try Probe.owner(of: slot, in: cluster)
        let peer = try #require(try Probe.lines(nodes[0]).first { $0.isMaster && $0.address != owner.address })
        let ownerId = try Probe.myId(owner)
        let peerNode = try #require(nodes.first { $0.address == peer.address })
        #expect(try owner.cli(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", peer.id]).contains("OK"))
        #expect(try peerNode.cli(["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", ownerId]).contains("OK"))
        #expect(!cluster.openSlotMarkers().isEmpty)
        try client.runJob("tls", "fix", "{}")
        cluster.expectSettled(from: nodes[0])
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: nodes[0].address, tls: tls) == Self.keyCount)

        // failover: a replica promoted over its master, in every node's view
        #expect(Probe.eventually(15) {
            nodes[0..<6].allSatisfy { ((try? Probe.lines($0)) ?? []).filter(\.isReplica).count == 3 }
        }, "not every node sees 3 replicas")
        let replica = try #require(try Probe.lines(nodes[0]).filter(\.isReplica).min { $0.address < $1.address })
        let oldMaster = replica.masterId ?? ""
        let slots = try Probe.ownership(nodes[0])[oldMaster] ?? []
        try client.runJob("tls", "failover", #"{"replica":"\#(replica.address)"}"#)
        try Probe.expectPromoted(replica.id, over: oldMaster, slots: slots, in: cluster)

        // del-node: the new master is drained over TLS and forgotten (the fix may have handed it one slot more)
        let held = try Probe.myself(newMaster).slots.count
        let drain = try client.runJob("tls", "del-node", #"{"node":"\#(newMaster.address)"}"#)
        #expect((drain["progress"] as? [String: Any])?["slots_done"] as? Int == held)
        try cluster.waitUntilConsistent(Array(nodes[0..<6]))
        cluster.expectSettled(from: nodes[0])
        topology = try client.topology("tls")
        #expect((topology["summary"] as? [String: Any])?["masters"] as? Int == 3)
        #expect(masters(topology)[newMaster.address] == nil)
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true, "\(topology["checks"] ?? "")")
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: nodes[0].address, tls: tls) == Self.keyCount)

        let jobs = try client.get("/jobs?cluster_id=tls").object["items"] as? [[String: Any]] ?? []
        #expect(jobs.compactMap { $0["type"] as? String } == ["del-node", "failover", "fix", "reshard", "add-node", "create"])
        #expect(jobs.allSatisfy { $0["status"] as? String == "succeeded" })
    }
}
