import Foundation
import Testing

/// Never lose a shard by doing what was asked, on real servers with Redis's default replication settings
/// (`repl-diskless-sync-delay 5`): a failover right after add-node, a failover to a replica that has not synced,
/// a replica that cannot sync, a move that would overfill its target, a plan applied to a cluster that changed.
@Suite(.serialized)
struct DataSafetyIntegrationTests {
    /// Three masters without replicas and a spare; `keys` keys written through the cluster; registered as `id`.
    struct Setup {
        let cluster: TestCluster
        let service: TestService
        var client: HTTPTestClient { service.client }
        var spare: RedisNodeProcess { cluster.nodes[3] }

        init(_ id: String, server: ServerKind = .redis, keys: Int = 0, password: String? = nil) throws {
            cluster = try TestCluster(nodes: 4, password: password, server: server)
            try cluster.create(count: 3, replicas: 0)
            service = try TestService()
            let auth = password.map { #","password":"\#($0)""# } ?? ""
            guard try service.client.post("/clusters", #"{"id":"\#(id)","seeds":["\#(cluster.nodes[0].address)"]\#(auth)}"#).status == 201 else {
                throw TestFailure("registration of \(id) failed")
            }
            if keys > 0 {
                try ClusterKeys.write(count: keys, seed: cluster.nodes[0].address,
                                      credentials: password.map { .init(username: nil, password: $0) })
            }
        }

        func stop() {
            service.stop()
            cluster.stop()
        }
    }

    static func dbsize(_ node: RedisNodeProcess) -> Int {
        Int(((try? node.cli(["DBSIZE"])) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// The measured loss: add-node as replica, then failover submitted right after (queued behind it), as a CI
    /// script replacing a node would. Both succeed, and the promoted replica holds every key of its master.
    @Test(arguments: [ServerKind.redis, .valkey])
    func failoverRightAfterAddNodeKeepsEveryKey(_ server: ServerKind) throws {
        let setup = try Setup("swap", server: server, keys: 300_000)
        defer { setup.stop() }
        let master = setup.cluster.nodes[0]
        let before = Self.dbsize(master)
        #expect(before > 90_000, "the master holds \(before) keys")
        let client = setup.client
        let add = try client.submit("swap", "add-node", #"{"address":"\#(setup.spare.address)","role":"replica","master":"\#(master.address)"}"#)
        let failover = try client.submit("swap", "failover", #"{"replica":"\#(setup.spare.address)"}"#)
        let added = try client.waitForJob(add)
        #expect(added["status"] as? String == "succeeded", "add-node: \(added["error"] ?? "")")
        // Reported added only once it holds the data: its key count equals the master's when the job ends.
        #expect(Self.dbsize(setup.spare) == before, "the replica had \(Self.dbsize(setup.spare)) of \(before) keys")
        let events = try client.get("/jobs/\(add)/events").text
        #expect(events.contains("holds the data of"), "\(events)")
        let promoted = try client.waitForJob(failover)
        #expect(promoted["status"] as? String == "succeeded", "failover: \(promoted["error"] ?? "")")
        let result = promoted["result"] as? [String: Any] ?? [:]
        #expect(result["old_master_keys_before"] as? Int == before)
        #expect(result["new_master_keys_after"] as? Int == before)
        #expect(result["old_master_rejoined"] as? Bool == true)
        #expect(Self.dbsize(setup.spare) == before && Self.dbsize(master) == before)
        #expect(try ClusterKeys.verify(count: 300_000, seed: setup.spare.address) == 300_000)
        let verification = promoted["verification"] as? [String: Any] ?? [:]
        #expect(verification["passed"] as? Bool == true, "\(verification)")
        let names = (verification["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(Set(names).isSuperset(of: ["nodes_agree", "no_open_slot", "membership_as_planned", "replicas_in_sync"]))
        setup.cluster.expectSettled(from: setup.spare)
    }

    /// A replica still waiting for its first sync (attached by hand, the master's diskless delay long): a default
    /// failover waits, then refuses with both offsets and changes nothing; force is refused while the master
    /// answers; with accept_data_loss it runs and records the bytes at risk.
    @Test func failoverToAReplicaThatHasNotSyncedIsRefused() throws {
        let setup = try Setup("lag", keys: 3_000)
        defer { setup.stop() }
        let master = setup.cluster.nodes[0]
        let client = setup.client
        _ = try master.cli(["CONFIG", "SET", "repl-diskless-sync-delay", "60"])
        let masterId = try master.cli(["CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try setup.spare.cli(["CLUSTER", "MEET", "127.0.0.1", "\(master.port)"])
        try setup.cluster.waitUntilConsistent(Array(setup.cluster.nodes))
        _ = try setup.spare.cli(["CLUSTER", "REPLICATE", masterId])
        try waitFor("every node sees the spare as a replica") {
            setup.cluster.nodes.allSatisfy { ((try? $0.cli(["CLUSTER", "NODES"])) ?? "").contains("slave \(masterId)") }
        }
        let etag = try client.get("/clusters/lag/topology").headers["etag"] ?? ""
        let masterKeys = Self.dbsize(master)

        let refused = try client.waitForJob(try client.submit("lag", "failover", #"{"replica":"\#(setup.spare.address)","wait_seconds":2}"#))
        #expect(refused["status"] as? String == "failed")
        let error = refused["error"] as? [String: Any] ?? [:]
        #expect(error["code"] as? String == "replica_not_synced", "\(error)")
        let message = error["message"] as? String ?? ""
        #expect(message.contains("replica offset") && message.contains("master offset"), "\(message)")
        #expect(try client.get("/clusters/lag/topology").headers["etag"] == etag, "the refused failover changed the cluster")

        let forced = try client.waitForJob(try client.submit("lag", "failover", #"{"replica":"\#(setup.spare.address)","mode":"force"}"#))
        #expect(forced["status"] as? String == "failed")
        let forcedError = forced["error"] as? [String: Any] ?? [:]
        #expect(forcedError["code"] as? String == "replica_not_synced")
        let forcedMessage = forcedError["message"] as? String ?? ""
        #expect(forcedMessage.contains("accept_data_loss"), "\(forcedMessage)")
        #expect(try client.get("/clusters/lag/topology").headers["etag"] == etag)

        let accepted = try client.waitForJob(try client.submit("lag", "failover",
            #"{"replica":"\#(setup.spare.address)","mode":"force","accept_data_loss":true,"wait_seconds":5}"#))
        let bytes = (accepted["result"] as? [String: Any])?["bytes_at_risk"] as? Int ?? 0
        #expect(bytes > 0, "the gap was not recorded: \(accepted["status"] ?? "") \(accepted["result"] ?? "nil") \(accepted["error"] ?? "") \((try? client.get("/jobs/\(accepted["id"] as? Int ?? 0)/events").text) ?? "")")
        #expect((accepted["result"] as? [String: Any])?["keys_at_risk"] as? Int == masterKeys)
        let events = try client.get("/jobs/\(accepted["id"] as? Int ?? 0)/events").text
        #expect(events.contains("accept_data_loss"), "\(events)")
    }

    /// A replica without masterauth on a password-protected cluster never syncs: add-node fails with the reason
    /// the nodes give, within its bound, instead of reporting a replica that holds nothing.
    @Test func replicaThatCannotSyncFailsWithItsReason() throws {
        let cluster = try TestCluster(nodes: 4, password: "s3cret-pw")
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        // A node whose clients need the password but which has no masterauth for its own master.
        let node = cluster.nodes[3]
        _ = try node.cli(["CONFIG", "SET", "masterauth", ""])
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"noauth","seeds":["\#(cluster.nodes[0].address)"],"password":"s3cret-pw"}"#).status == 201)
        try ClusterKeys.write(count: 2_000, seed: cluster.nodes[0].address, credentials: .init(username: nil, password: "s3cret-pw"))
        let started = Date()
        let job = try client.waitForJob(try client.submit("noauth", "add-node",
            #"{"address":"\#(node.address)","role":"replica","master":"\#(cluster.nodes[0].address)"}"#), timeout: 180)
        #expect(job["status"] as? String == "failed")
        let error = job["error"] as? [String: Any] ?? [:]
        #expect(error["code"] as? String == "replica_not_synced", "\(error)")
        let message = error["message"] as? String ?? ""
        #expect(message.contains("masterauth"), "\(message)")
        #expect(!message.contains("s3cret-pw"))
        print("add-node of a replica without masterauth failed after \(Int(Date().timeIntervalSince(started))) s: \(message)")
    }

    /// A reshard onto a master with maxmemory 3mb: the dry run shows memory_headroom failing with its figures,
    /// the submission is refused (422 preflight_failed) and the cluster is untouched.
    @Test func preflightFailureLeavesTheClusterUntouched() throws {
        let setup = try Setup("full", keys: 200_000)
        defer { setup.stop() }
        let client = setup.client
        try client.runJob("full", "add-node", #"{"address":"\#(setup.spare.address)"}"#)
        _ = try setup.spare.cli(["CONFIG", "SET", "maxmemory", "3mb"])
        let etag = try client.get("/clusters/full/topology").headers["etag"] ?? ""
        let body = #"{"to":"\#(setup.spare.address)","slots":4096"#

        let dry = try client.post("/clusters/full/reshard", body + #","dry_run":true}"#).object
        #expect(dry["topology_etag"] as? String == etag.replacingOccurrences(of: "\"", with: ""))
        let checks = (dry["plan"] as? [String: Any])?["preflight"] as? [[String: Any]] ?? []
        #expect(Set(checks.compactMap { $0["name"] as? String }) == ["health", "replication", "memory_headroom", "big_keys", "permissions", "time"])
        let memory = try #require(checks.first { $0["name"] as? String == "memory_headroom" })
        #expect(memory["status"] as? String == "fail", "\(memory)")
        let figures = (memory["figures"] as? [String: Any])?[setup.spare.address] as? [String: Any] ?? [:]
        #expect(figures["limit_bytes"] as? Int == 3 * 1024 * 1024 && (figures["incoming_bytes"] as? Int ?? 0) > 2 * 1024 * 1024, "\(figures)")
        let time = try #require(checks.first { $0["name"] as? String == "time" })
        #expect(((time["figures"] as? [String: Any])?["keys_to_move"] as? Int ?? 0) > 10_000, "\(time)")

        // A big key in a slot that moves is named with its size (big_key_bytes lowered to see one without 64 MB).
        _ = try setup.cluster.nodes[1].cli(["SET", "big", String(repeating: "x", count: 20_000)])
        let withBig = try client.post("/clusters/full/reshard", body + #","dry_run":true,"big_key_bytes":10240}"#).object
        let big = ((withBig["plan"] as? [String: Any])?["preflight"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "big_keys" }
        #expect(big?["status"] as? String == "warn", "\(big ?? [:])")
        #expect((big?["message"] as? String ?? "").contains("big ("), "\(big ?? [:])")

        let refused = try client.post("/clusters/full/reshard", body + "}")
        #expect(refused.status == 422)
        #expect(refused.object["code"] as? String == "preflight_failed")
        #expect((refused.object["detail"] as? String ?? "").contains("memory_headroom"))
        #expect((refused.object["preflight"] as? [[String: Any]])?.count == 6)
        #expect((try client.get("/jobs?cluster_id=full&type=reshard").object["items"] as? [Any])?.isEmpty == true, "a job was queued")
        #expect(Self.dbsize(setup.spare) == 0)
        #expect(try client.get("/clusters/full/topology").headers["etag"] == etag)
        setup.cluster.expectSettled(from: setup.cluster.nodes[0])
    }

    /// Review, then apply exactly that: a stale If-Match is a 412 and nothing is queued; the current one runs; a job
    /// queued behind another whose If-Match goes stale meanwhile fails with topology_changed when it starts.
    @Test func staleIfMatchIsRefused() throws {
        let setup = try Setup("ci", keys: 5_000)
        defer { setup.stop() }
        let client = setup.client
        try client.runJob("ci", "add-node", #"{"address":"\#(setup.spare.address)"}"#)
        let reviewed = try client.post("/clusters/ci/reshard", #"{"to":"\#(setup.spare.address)","slots":100,"dry_run":true}"#)
        let etag = try #require(reviewed.object["topology_etag"] as? String)
        #expect(reviewed.headers["etag"] == "\"\(etag)\"")
        #expect(try client.get("/clusters/ci/topology").headers["etag"] == "\"\(etag)\"")

        // The cluster changes after the review.
        try client.runJob("ci", "reshard", #"{"to":"\#(setup.spare.address)","slot_ranges":[[0,9]]}"#)
        let stale = try client.request("POST", "/clusters/ci/reshard", body: #"{"to":"\#(setup.spare.address)","slots":100}"#,
                                       headers: [("If-Match", "\"\(etag)\"")])
        #expect(stale.status == 412, "\(stale.text)")
        #expect(stale.object["code"] as? String == "topology_changed")
        let current = try #require(stale.headers["etag"])
        #expect(current != "\"\(etag)\"")
        #expect((try client.get("/jobs?cluster_id=ci&type=reshard").object["items"] as? [Any])?.count == 1, "the stale request queued a job")

        let fresh = try client.request("POST", "/clusters/ci/reshard", body: #"{"to":"\#(setup.spare.address)","slots":100}"#,
                                       headers: [("If-Match", current)])
        #expect(fresh.status == 202, "\(fresh.text)")
        let ran = try client.waitForJob(fresh.object["id"] as? Int ?? 0)
        #expect(ran["status"] as? String == "succeeded", "\(ran["error"] ?? "")")
        #expect((ran["verification"] as? [String: Any])?["passed"] as? Bool == true)

        // A job queued with an If-Match that no longer holds when it starts (as one queued behind another job that
        // changed the cluster) is checked again by the worker: it fails without touching anything.
        let params = #"{"to":"\#(setup.spare.address)","slot_ranges":[[10923,10930]],"replace":false}"#
        let queued = try setup.service.store.insertJob(clusterId: "ci", type: "reshard", params: params, actor: "test",
                                                       options: #"{"force":false,"if_match":"\"\#(etag)\""}"#)
        let late = try client.waitForJob(Int(queued.id))
        #expect(late["status"] as? String == "failed")
        #expect((late["error"] as? [String: Any])?["code"] as? String == "topology_changed", "\(late["error"] ?? "")")
        setup.cluster.expectSettled(from: setup.cluster.nodes[0])
    }

    /// The service's ACL user may not MIGRATE: the plan's permissions check names the command, the user and the
    /// node (ACL DRYRUN), and the job is refused before the first slot, where it would otherwise have failed.
    @Test func missingPermissionIsFoundBeforeTheMove() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        for node in cluster.nodes {
            _ = try node.cli(["ACL", "SETUSER", "ops", "on", ">ops-pw", "~*", "&*", "+@all", "-migrate"])
        }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"acl","seeds":["\#(cluster.nodes[0].address)"],"username":"ops","password":"ops-pw"}"#).status == 201)
        try ClusterKeys.write(count: 5_000, seed: cluster.nodes[0].address)
        try client.runJob("acl", "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)
        let body = #"{"to":"\#(cluster.nodes[3].address)","slots":1000"#
        let dry = try client.post("/clusters/acl/reshard", body + #","dry_run":true}"#).object
        let permissions = ((dry["plan"] as? [String: Any])?["preflight"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "permissions" }
        #expect(permissions?["status"] as? String == "fail", "\(permissions ?? [:])")
        let message = permissions?["message"] as? String ?? ""
        #expect(message.contains("MIGRATE") && message.contains("'ops'") && message.contains(cluster.nodes[0].address), "\(message)")
        let refused = try client.post("/clusters/acl/reshard", body + "}")
        #expect(refused.status == 422 && refused.object["code"] as? String == "preflight_failed", "\(refused.text)")
        #expect(cluster.openSlotMarkers().isEmpty)
        cluster.expectClean(from: cluster.nodes[0])
    }

    /// Removing the only replica of a master: the replication check warns that the master is left without one.
    @Test func removingTheLastReplicaIsWarned() throws {
        let cluster = try TestCluster(nodes: 6)
        defer { cluster.stop() }
        try cluster.create(replicas: 1)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"orphan","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        let replica = try #require((try client.topology("orphan")["nodes"] as? [[String: Any]] ?? [])
            .first { $0["role"] as? String == "replica" }?["address"] as? String)
        let dry = try client.post("/clusters/orphan/del-node", #"{"node":"\#(replica)","dry_run":true}"#).object
        let replication = ((dry["plan"] as? [String: Any])?["preflight"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "replication" }
        #expect(replication?["status"] as? String == "warn", "\(replication ?? [:])")
        #expect((replication?["message"] as? String ?? "").contains("would have no replica"), "\(replication ?? [:])")
    }

    private func waitFor(_ what: String, timeout: Double = 20, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestFailure("timed out waiting until \(what)")
    }
}
