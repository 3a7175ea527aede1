import ClusterModel
import Foundation
import Testing

/// Every job type over real HTTP against real redis-server processes. Each test checks what the job did on the
/// live nodes — their own CLUSTER NODES, keys and config read with redis-cli — not only what the job reports.
@Suite(.serialized)
struct JobOperationsIntegrationTests {
    typealias Probe = JobOpsProbe

    // MARK: - 1. dry run

    @Test func reshardDryRunPlansLikeRedisCliAndChangesNothing() throws {
        let setup = try Probe.threeMastersAndAnEmptyOne("dry")
        defer { setup.stop() }
        let client = setup.service.client
        let viewsBefore = try Probe.slotViews(setup.cluster)
        let ownedBefore = try Probe.ownership(setup.cluster.nodes[0])
        let jobsBefore = try Probe.jobIds(client, cluster: "dry")

        let response = try client.post("/clusters/dry/reshard", #"{"to":"\#(setup.newId)","slots":4096,"dry_run":true}"#)
        #expect(response.status == 200, "\(response.text)")
        #expect(response.headers["location"] == nil)
        #expect(response.object["dry_run"] as? Bool == true)
        #expect(response.object["type"] as? String == "reshard")
        let plan = response.object["plan"] as? [String: Any] ?? [:]
        let moves = plan["moves"] as? [[String: Any]] ?? []
        #expect(moves.count == 3)
        #expect(plan["slots_total"] as? Int == 4096)
        var moved = Set<Int>()
        for move in moves {
            let slots = Probe.slots(move["slots"])
            #expect(move["to"] as? String == setup.newId)
            #expect(move["to_address"] as? String == setup.newNode.address)
            #expect(move["count"] as? Int == slots.count)
            #expect(slots.isDisjoint(with: moved))
            // Each source gives only slots it owns.
            #expect(slots.isSubset(of: ownedBefore[move["from"] as? String ?? ""] ?? []), "\(move)")
            moved.formUnion(slots)
        }
        #expect(Probe.rangesText(moved) == "0-1364,5461-6826,10923-12287")

        // Naming the target by address plans the same.
        let byAddress = try client.post("/clusters/dry/reshard",
                                        #"{"to":"\#(setup.newNode.address)","slots":4096,"dry_run":true}"#)
        #expect(byAddress.status == 200)
        let addressMoves = (byAddress.object["plan"] as? [String: Any])?["moves"] as? [[String: Any]] ?? []
        #expect(addressMoves.reduce(into: Set<Int>()) { $0.formUnion(Probe.slots($1["slots"])) } == moved)

        // Nothing changed on any node, and no job was recorded.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try Probe.slotViews(setup.cluster) == viewsBefore)
        #expect(setup.cluster.openSlotMarkers().isEmpty)
        #expect(try Probe.myself(setup.newNode).slots.isEmpty)
        #expect(try Probe.jobIds(client, cluster: "dry") == jobsBefore)
    }

    // MARK: - 2. validation

    @Test func impossibleAndMalformedRequestsAreRejectedWithoutAJob() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try Probe.register(client, "val", cluster.nodes[0])
        let masters = try Probe.ownership(cluster.nodes[0])
        let master0 = try Probe.myId(cluster.nodes[0])
        let master1 = try Probe.myId(cluster.nodes[1])

        // A replica, added through the API, to aim at.
        let replica = cluster.nodes[3]
        let added = try client.runJob("val", "add-node", #"{"address":"\#(replica.address)","role":"replica","master":"\#(master0)"}"#)
        #expect(added["status"] as? String == "succeeded")
        let replicaId = try Probe.myId(replica)
        for node in cluster.nodes {
            let line = try Probe.lines(node).first { $0.id == replicaId }
            #expect(line?.isReplica == true && line?.masterId == master0, "\(node.address) sees \(String(describing: line))")
        }
        let jobsBefore = try Probe.jobIds(client, cluster: "val")
        let viewsBefore = try Probe.slotViews(cluster)

        func expectStatus(_ status: Int, _ path: String, _ body: String, mentioning text: String? = nil,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
            let response = try client.post(path, body)
            #expect(response.status == status, "\(path) \(body) → \(response.status) \(response.text)", sourceLocation: sourceLocation)
            #expect(response.headers["content-type"]?.hasPrefix("application/problem+json") == true, sourceLocation: sourceLocation)
            if let text {
                #expect((response.object["detail"] as? String ?? "").contains(text), "\(response.text)", sourceLocation: sourceLocation)
            }
        }

        // 422: well-formed, impossible against this cluster.
        try expectStatus(422, "/clusters/val/reshard", #"{"to":"127.0.0.1:1","slots":10}"#, mentioning: "127.0.0.1:1")
        try expectStatus(422, "/clusters/val/reshard", #"{"to":"0123456789abcdef0123456789abcdef01234567","slots":10}"#)
        try expectStatus(422, "/clusters/val/reshard", #"{"to":"\#(replicaId)","slots":10}"#)
        try expectStatus(422, "/clusters/val/reshard", #"{"to":"\#(replica.address)","slot_ranges":[[0,10]]}"#)
        try expectStatus(422, "/clusters/val/reshard", #"{"to":"\#(master1)","slots":6000,"from":["\#(master0)"]}"#,
                         mentioning: "\(masters[master0]?.count ?? -1)")
        try expectStatus(422, "/clusters/val/reshard", #"{"to":"\#(master1)","slots":10,"from":["\#(replicaId)"]}"#)
        try expectStatus(422, "/clusters/val/failover", #"{"replica":"\#(master1)"}"#)
        // Ranges the target already owns: nothing to move, named in the answer.
        let ownedSlot = masters[master0]?.min() ?? 0
        try expectStatus(422, "/clusters/val/reshard", #"{"to":"\#(master0)","slot_ranges":[[\#(ownedSlot),\#(ownedSlot)]]}"#,
                         mentioning: "already owns slots \(ownedSlot)")
        try expectStatus(422, "/clusters/val/del-node", #"{"node":"127.0.0.1:1"}"#)
        try expectStatus(422, "/clusters/val/add-node", #"{"address":"\#(cluster.nodes[1].address)"}"#)

        // 400: malformed bodies.
        try expectStatus(400, "/clusters/val/reshard", #"{"to":"\#(master1)","slots":0}"#, mentioning: "slots")
        try expectStatus(400, "/clusters/val/reshard", #"{"to":"\#(master1)","slot_ranges":[[5]]}"#, mentioning: "slot_ranges")
        try expectStatus(400, "/clusters/val/reshard", #"{"to":"\#(master1)","slot_ranges":[[0,16384]]}"#, mentioning: "slot_ranges")
        try expectStatus(400, "/clusters/val/reshard", #"{"to":"\#(master1)","slots":10,"colour":"blue"}"#, mentioning: "colour")
        try expectStatus(400, "/clusters/val/reshard", #"{"slots":10}"#, mentioning: "to")
        try expectStatus(400, "/clusters/val/reshard", #"{"to":"\#(master1)","slots":10,"slot_ranges":[[0,1]]}"#)
        try expectStatus(400, "/clusters/val/reshard", #"{"to":"#, mentioning: "JSON")
        try expectStatus(400, "/clusters/val/failover", #"{"replica":"\#(replicaId)","mode":"sideways"}"#, mentioning: "mode")
        try expectStatus(400, "/clusters/val/set-timeout", #"{"node_timeout_ms":50}"#)
        try expectStatus(400, "/clusters/val/rebalance", #"{"threshold_percent":101}"#)

        // 404: unknown cluster (and job).
        try expectStatus(404, "/clusters/nope/reshard", #"{"to":"\#(master1)","slots":10}"#)
        try expectStatus(404, "/clusters/nope/fix", "{}")
        #expect(try client.get("/jobs/999999").status == 404)

        #expect(try Probe.jobIds(client, cluster: "val") == jobsBefore)
        #expect(try Probe.slotViews(cluster) == viewsBefore)

        // del-node of the last master: a one-node cluster owning every slot.
        let solo = try TestCluster(nodes: 1)
        defer { solo.stop() }
        let only = solo.nodes[0]
        #expect(try only.cli(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).contains("OK"))
        #expect(Probe.eventually(10) { ((try? only.cli(["CLUSTER", "INFO"])) ?? "").contains("cluster_state:ok") })
        try Probe.register(client, "solo", only)
        try expectStatus(422, "/clusters/solo/del-node", #"{"node":"\#(only.address)"}"#, mentioning: "last master")
        let onlyId = try Probe.myId(only)
        try expectStatus(422, "/clusters/solo/del-node", #"{"node":"\#(onlyId)","dry_run":true}"#)
        #expect(try Probe.jobIds(client, cluster: "solo").isEmpty)
        #expect(try Probe.myself(only).slots.count == 16384)
    }

    // MARK: - 3. BUSYKEY

    @Test func reshardStopsOnConflictingKeysAndReplacesEqualOrWhenAsked() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try Probe.register(client, "busy", cluster.nodes[0])

        let slot = 1000
        let a = try Probe.owner(of: slot, in: cluster)
        let b = cluster.nodes.first { $0.address != a.address }!
        let aId = try Probe.myId(a)
        let bId = try Probe.myId(b)
        let key = Probe.key(inSlot: slot, "busy")
        #expect(try a.cli(["CLUSTER", "KEYSLOT", key]).opsTrimmed == "\(slot)")

        // Different values: the job fails naming the key, and leaves everything as it was.
        try Probe.plantOrphan(on: b, slot: slot, importingFrom: aId, key: key, value: "v2")
        #expect(try a.cli(["SET", key, "v1"]).opsTrimmed == "OK")
        let failedId = try client.submit("busy", "reshard", #"{"to":"\#(bId)","slot_ranges":[[\#(slot),\#(slot)]]}"#)
        let failed = try client.waitForJob(failedId)
        #expect(failed["status"] as? String == "failed")
        let error = failed["error"] as? [String: Any] ?? [:]
        #expect(error["code"] as? String == "busy_keys", "\(failed)")
        #expect((error["message"] as? String ?? "").contains(key), "\(error)")
        #expect(cluster.openSlotMarkers().isEmpty, "\(cluster.openSlotMarkers())")
        for node in cluster.nodes {
            #expect(try Probe.ownership(node)[aId]?.contains(slot) == true, "\(node.address) no longer sees \(a.address) own \(slot)")
        }
        #expect(try a.cli(["GET", key]).opsTrimmed == "v1")
        #expect(try Probe.peekOrphan(on: b, slot: slot, importingFrom: aId, key: key) == "v2")
        #expect(try b.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]).opsTrimmed == "1")

        // Equal values: moved (the target's copy replaced by the identical one).
        try Probe.plantOrphan(on: b, slot: slot, importingFrom: aId, key: key, value: "v1")
        let equal = try client.runJob("busy", "reshard", #"{"to":"\#(bId)","slot_ranges":[[\#(slot),\#(slot)]]}"#)
        #expect(equal["status"] as? String == "succeeded")
        #expect(cluster.openSlotMarkers().isEmpty)
        for node in cluster.nodes {
            #expect(try Probe.ownership(node)[bId]?.contains(slot) == true, "\(node.address) does not see \(b.address) own \(slot)")
        }
        #expect(try b.cli(["GET", key]).opsTrimmed == "v1")
        #expect(try a.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]).opsTrimmed == "0")

        // Different values with replace: the source's value wins.
        let slot2 = 2000
        #expect(try Probe.owner(of: slot2, in: cluster).address == a.address)
        let key2 = Probe.key(inSlot: slot2, "busy")
        try Probe.plantOrphan(on: b, slot: slot2, importingFrom: aId, key: key2, value: "theirs")
        #expect(try a.cli(["SET", key2, "ours"]).opsTrimmed == "OK")
        let replaced = try client.runJob("busy", "reshard",
                                         #"{"to":"\#(b.address)","slot_ranges":[[\#(slot2),\#(slot2)]],"replace":true}"#)
        #expect(replaced["status"] as? String == "succeeded")
        #expect(cluster.openSlotMarkers().isEmpty)
        for node in cluster.nodes {
            #expect(try Probe.ownership(node)[bId]?.contains(slot2) == true)
        }
        #expect(try b.cli(["GET", key2]).opsTrimmed == "ours")
        #expect(try a.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(slot2)"]).opsTrimmed == "0")
        cluster.expectClean(from: cluster.nodes[0])
    }

    // MARK: - 4. big values

    @Test func reshardMovesA50MBStringAndAMillionMemberSet() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try Probe.register(client, "big", cluster.nodes[0])

        let (stringSlot, setSlot) = (1234, 4321)
        let owner = try Probe.owner(of: stringSlot, in: cluster)
        #expect(try Probe.owner(of: setSlot, in: cluster).address == owner.address)
        let target = cluster.nodes.first { $0.address != owner.address }!
        let stringKey = Probe.key(inSlot: stringSlot, "bigstring")
        let setKey = Probe.key(inSlot: setSlot, "bigset")

        #expect(try owner.cli(["SETRANGE", stringKey, "52428799", "x"]).opsTrimmed == "52428800")
        let script = """
            for i = 0, 999 do
              local members = {}
              for j = 1, 1000 do members[j] = i * 1000 + j end
              redis.call('SADD', KEYS[1], unpack(members))
            end
            return redis.call('SCARD', KEYS[1])
            """
        #expect(try owner.cli(["EVAL", script, "1", setKey]).opsTrimmed == "1000000")

        let job = try client.runJob("big", "reshard",
                                    #"{"to":"\#(target.address)","slot_ranges":[[\#(stringSlot),\#(stringSlot)],[\#(setSlot),\#(setSlot)]]}"#,
                                    timeout: 180)
        #expect(job["status"] as? String == "succeeded")
        let progress = job["progress"] as? [String: Any] ?? [:]
        #expect(progress["slots_done"] as? Int == 2)
        #expect(progress["keys_moved"] as? Int == 2)
        #expect(try target.cli(["STRLEN", stringKey]).opsTrimmed == "52428800")
        #expect(try target.cli(["GETRANGE", stringKey, "52428799", "52428799"]).opsTrimmed == "x")
        #expect(try target.cli(["SCARD", setKey]).opsTrimmed == "1000000")
        #expect(try target.cli(["SISMEMBER", setKey, "1000000"]).opsTrimmed == "1")
        #expect(try owner.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(stringSlot)"]).opsTrimmed == "0")
        #expect(try owner.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(setSlot)"]).opsTrimmed == "0")
        let targetId = try Probe.myId(target)
        for node in cluster.nodes {
            let owned = try Probe.ownership(node)[targetId] ?? []
            #expect(owned.contains(stringSlot) && owned.contains(setSlot))
        }
        #expect(cluster.openSlotMarkers().isEmpty)
    }

    // MARK: - 5. fix

    @Test func fixClosesOpenSlotsAndCoversUncoveredSlots() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try Probe.register(client, "fix", cluster.nodes[0])

        // (c) A healthy cluster: nothing to fix, and a dry run records no job.
        let dry = try client.post("/clusters/fix/fix", #"{"dry_run":true}"#)
        #expect(dry.status == 200, "\(dry.text)")
        let dryPlan = dry.object["plan"] as? [String: Any] ?? [:]
        #expect(dryPlan["summary"] as? String == "nothing to fix")
        #expect(try Probe.jobIds(client, cluster: "fix").isEmpty)

        // (a) An open slot: migrating on its owner, importing on the peer, keys still on the owner.
        let slot = 3000
        let a = try Probe.owner(of: slot, in: cluster)
        let b = cluster.nodes.first { $0.address != a.address }!
        let aId = try Probe.myId(a)
        let bId = try Probe.myId(b)
        let tag = Probe.key(inSlot: slot, "open")
        let keys = (0..<5).map { "{\(tag)}:\($0)" }
        for key in keys { #expect(try a.cli(["SET", key, "value-of-\(key)"]).opsTrimmed == "OK") }
        #expect(try a.cli(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", bId]).opsTrimmed == "OK")
        #expect(try b.cli(["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", aId]).opsTrimmed == "OK")
        let open = (try client.topology("fix")["checks"] as? [String: Any])?["open_slots"] as? [[String: Any]] ?? []
        #expect(open.count == 2)
        let openPlan = try client.post("/clusters/fix/fix", #"{"dry_run":true}"#).object["plan"] as? [String: Any] ?? [:]
        #expect((openPlan["fix"] as? [String: Any])?["continue_migrations"] as? [Any] != nil, "\(openPlan)")

        let fixed = try client.runJob("fix", "fix", "{}")
        #expect(fixed["status"] as? String == "succeeded")
        #expect(cluster.openSlotMarkers().isEmpty, "\(cluster.openSlotMarkers())")
        let read = try Probe.cliInput(cluster.nodes[0], keys.map { "GET \($0)" }, clusterMode: true)
        #expect(read == keys.map { "value-of-\($0)" }, "\(read)")
        // The migration was finished, not undone: the importing node owns the slot everywhere.
        for node in cluster.nodes {
            #expect(try Probe.ownership(node)[bId]?.contains(slot) == true)
        }
        #expect(try b.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]).opsTrimmed == "5")
        cluster.expectClean(from: cluster.nodes[0])

        // (b) Uncovered slots 100-199, one of them (150) still holding a key on its former owner.
        let owner = try Probe.owner(of: 150, in: cluster)
        let ownerId = try Probe.myId(owner)
        let keyIn150 = Probe.key(inSlot: 150, "uncovered")
        #expect(try owner.cli(["SET", keyIn150, "kept"]).opsTrimmed == "OK")
        let others = cluster.nodes.filter { $0.address != owner.address }
        for node in [owner] + others {
            #expect(try node.cli(["CLUSTER", "DELSLOTSRANGE", "100", "199"]).opsTrimmed == "OK")
        }
        var checks: [String: Any] = [:]
        #expect(Probe.eventually(15) {
            checks = (try? client.topology("fix")["checks"] as? [String: Any]) ?? [:]
            return checks["uncovered_slots"] as? [[Int]] == [[100, 199]]
        }, "topology never showed 100-199 uncovered: \(checks)")
        #expect(checks["slots_covered"] as? Bool == false)
        #expect(checks["ok"] as? Bool == false)

        let covered = try client.runJob("fix", "fix", "{}")
        #expect(covered["status"] as? String == "succeeded")
        let topology = try client.topology("fix")
        let after = topology["checks"] as? [String: Any] ?? [:]
        #expect(after["ok"] as? Bool == true, "\(after)")
        #expect(after["slots_covered"] as? Bool == true)
        #expect((after["uncovered_slots"] as? [Any])?.isEmpty == true)
        #expect((topology["summary"] as? [String: Any])?["slots_assigned"] as? Int == 16384)
        for node in cluster.nodes {
            let owned = try Probe.ownership(node)
            #expect(owned.values.reduce(0) { $0 + $1.count } == 16384, "\(node.address)")
            #expect(owned[ownerId]?.contains(150) == true, "slot 150 should go to the master holding its key")
            #expect(((try? node.cli(["CLUSTER", "INFO"])) ?? "").contains("cluster_state:ok"))
        }
        #expect(try Probe.cliInput(cluster.nodes[2], ["GET \(keyIn150)"], clusterMode: true) == ["kept"])
        cluster.expectClean(from: cluster.nodes[0])

        // (d) Importing on a node that holds a key of the slot, nobody migrating: the key goes back to the owner.
        // (e) Migrating on the owner, nobody importing, no keys elsewhere: the slot is simply closed.
        let (importingSlot, migratingSlot) = (4000, 6000)
        let keeper = try Probe.owner(of: importingSlot, in: cluster)
        let keeperId = try Probe.myId(keeper)
        let importer = cluster.nodes.first { $0.address != keeper.address }!
        let strayKey = Probe.key(inSlot: importingSlot, "stray")
        let planted = try Probe.cliInput(importer, ["CLUSTER SETSLOT \(importingSlot) IMPORTING \(keeperId)", "ASKING",
                                                    "SET \(strayKey) back-home"])
        #expect(planted == ["OK", "OK", "OK"])
        let migrator = try Probe.owner(of: migratingSlot, in: cluster)
        let migratorId = try Probe.myId(migrator)
        let peer = cluster.nodes.first { $0.address != migrator.address }!
        #expect(try migrator.cli(["CLUSTER", "SETSLOT", "\(migratingSlot)", "MIGRATING", try Probe.myId(peer)]).opsTrimmed == "OK")
        let markers = cluster.openSlotMarkers().joined(separator: "\n")
        #expect(markers.contains("[\(importingSlot)-<-") && markers.contains("[\(migratingSlot)->-"), "\(markers)")
        let closePlan = try client.post("/clusters/fix/fix", #"{"dry_run":true}"#).object["plan"] as? [String: Any] ?? [:]
        #expect((closePlan["summary"] as? String ?? "").contains("close 2 open slots"), "\(closePlan)")

        let closed = try client.runJob("fix", "fix", "{}")
        #expect(closed["status"] as? String == "succeeded")
        #expect(cluster.openSlotMarkers().isEmpty, "\(cluster.openSlotMarkers())")
        #expect(try keeper.cli(["GET", strayKey]).opsTrimmed == "back-home")
        #expect(try importer.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(importingSlot)"]).opsTrimmed == "0")
        for node in cluster.nodes {
            let owned = try Probe.ownership(node)
            #expect(owned[keeperId]?.contains(importingSlot) == true)
            #expect(owned[migratorId]?.contains(migratingSlot) == true)
        }
        cluster.expectClean(from: cluster.nodes[0])
    }

    // MARK: - 6. failover

    @Test func failoverPromotesAReplicaInEveryNodesView() throws {
        let cluster = try TestCluster(nodes: 6)
        defer { cluster.stop() }
        try cluster.create(replicas: 1)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try Probe.register(client, "fo", cluster.nodes[0])

        // redis-cli's create returns once slots agree; replica roles may still be gossiping.
        #expect(Probe.eventually(15) {
            cluster.nodes.allSatisfy { ((try? Probe.lines($0)) ?? []).filter(\.isReplica).count == 3 }
        }, "not every node sees 3 replicas")
        let lines = try Probe.lines(cluster.nodes[0])
        let replicas = lines.filter(\.isReplica).sorted { $0.address < $1.address }
        #expect(replicas.count == 3)
        guard replicas.count == 3 else { return }

        // Default mode, the replica named by address.
        let first = replicas[0]
        let firstMaster = first.masterId ?? ""
        let firstSlots = try Probe.ownership(cluster.nodes[0])[firstMaster] ?? []
        let job = try client.runJob("fo", "failover", #"{"replica":"\#(first.address)"}"#)
        #expect(job["status"] as? String == "succeeded")
        #expect((job["plan"] as? [String: Any])?["failover_mode"] as? String == "default")
        try Probe.expectPromoted(first.id, over: firstMaster, slots: firstSlots, in: cluster)

        // Takeover, the replica of another master named by id.
        let second = replicas.first { $0.masterId != firstMaster && $0.id != first.id }!
        let secondMaster = second.masterId ?? ""
        let secondSlots = try Probe.ownership(cluster.nodes[0])[secondMaster] ?? []
        let takeover = try client.runJob("fo", "failover", #"{"replica":"\#(second.id)","mode":"takeover"}"#)
        #expect(takeover["status"] as? String == "succeeded")
        try Probe.expectPromoted(second.id, over: secondMaster, slots: secondSlots, in: cluster)

        // Naming a master is refused: an original one, and the replica just promoted.
        let jobsBefore = try Probe.jobIds(client, cluster: "fo")
        let untouched = lines.first { $0.isMaster && $0.id != firstMaster && $0.id != secondMaster }!
        for reference in [untouched.id, untouched.address, first.id] {
            let refused = try client.post("/clusters/fo/failover", #"{"replica":"\#(reference)"}"#)
            #expect(refused.status == 422, "\(reference): \(refused.status) \(refused.text)")
        }
        #expect(try Probe.jobIds(client, cluster: "fo") == jobsBefore)
        try cluster.waitUntilConsistent()
    }

    // MARK: - 7. set-timeout

    @Test func setTimeoutChangesClusterNodeTimeoutOnEveryNode() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try Probe.register(client, "timeout", cluster.nodes[0])
        for node in cluster.nodes { #expect(try Probe.nodeTimeout(node) == "2000") }

        let job = try client.runJob("timeout", "set-timeout", #"{"node_timeout_ms":3000}"#)
        #expect(job["status"] as? String == "succeeded")
        let plan = job["plan"] as? [String: Any] ?? [:]
        #expect(plan["node_timeout_ms"] as? Int == 3000)
        #expect(Set(plan["nodes"] as? [String] ?? []) == Set(cluster.nodes.map(\.address)))
        #expect((job["params"] as? [String: Any])?["node_timeout_ms"] as? Int == 3000)
        for node in cluster.nodes {
            #expect(try Probe.nodeTimeout(node) == "3000", "\(node.address)")
        }
        let events = try client.get("/jobs/\(job["id"] as? Int ?? 0)/events").object["items"] as? [[String: Any]] ?? []
        // Before and after snapshots are stored and point back at the job.
        for (field, reason) in [("snapshot_before", "job-before"), ("snapshot_after", "job-after")] {
            let snapshotId = job[field] as? Int ?? -1
            let snapshot = try client.get("/clusters/timeout/snapshots/\(snapshotId)")
            #expect(snapshot.status == 200, "\(field) \(snapshotId)")
            #expect(snapshot.object["reason"] as? String == reason)
            #expect(snapshot.object["job_id"] as? Int == job["id"] as? Int)
        }
        #expect(events.filter { ($0["message"] as? String ?? "").contains("set to 3000") }.count == 3)
    }

    // MARK: - 8. rebalance

    @Test func rebalanceSpreadsSlotsOverAnEmptyMasterKeepingEveryKey() throws {
        let setup = try Probe.threeMastersAndAnEmptyOne("rebal")
        defer { setup.stop() }
        let client = setup.service.client
        let cluster = setup.cluster
        let count = 2000
        let keys = (0..<count).map { "rebal:\($0)" }
        let written = try Probe.cliInput(cluster.nodes[0], keys.map { "SET \($0) v-\($0)" }, clusterMode: true)
        #expect(written.count == count && written.allSatisfy { $0 == "OK" }, "\(Set(written))")

        // Without use_empty_masters the empty master is left out: nothing to do.
        let without = try client.post("/clusters/rebal/rebalance", #"{"dry_run":true}"#)
        #expect(((without.object["plan"] as? [String: Any])?["moves"] as? [Any])?.isEmpty == true, "\(without.text)")

        let job = try client.runJob("rebal", "rebalance", #"{"use_empty_masters":true}"#)
        #expect(job["status"] as? String == "succeeded")
        let progress = job["progress"] as? [String: Any] ?? [:]
        #expect(progress["slots_done"] as? Int == progress["slots_total"] as? Int)
        #expect((progress["keys_moved"] as? Int ?? 0) > 0)
        for node in cluster.nodes {
            let owned = try Probe.ownership(node)
            #expect(owned.count == 4, "\(node.address) sees \(owned.count) masters with slots")
            #expect(owned.values.allSatisfy { abs($0.count - 4096) <= 1 }, "\(node.address): \(owned.mapValues(\.count))")
            #expect(owned.values.reduce(Set<Int>()) { $0.union($1) }.count == 16384)
        }
        let read = try Probe.cliInput(cluster.nodes[1], keys.map { "GET \($0)" }, clusterMode: true)
        #expect(read == keys.map { "v-\($0)" }, "\(zip(read, keys).filter { $0.0 != "v-\($0.1)" }.prefix(5))")
        let sizes = try cluster.nodes.map { Int(try $0.cli(["DBSIZE"]).opsTrimmed) ?? -1 }
        #expect(sizes.reduce(0, +) == count)
        #expect(sizes[3] > 0)
        #expect(cluster.openSlotMarkers().isEmpty)
        cluster.expectClean(from: cluster.nodes[0])
    }

    // MARK: - 9. queueing and cancel

    @Test func jobsOfOneClusterQueueAndQueuedJobsCancel() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        try Probe.register(client, "queue", cluster.nodes[0])

        // Two jobs submitted back to back: the second waits for the first.
        let first = try client.post("/clusters/queue/set-timeout", #"{"node_timeout_ms":4000}"#)
        let second = try client.post("/clusters/queue/rebalance", "{}")
        #expect(first.status == 202)
        #expect(second.status == 202)
        #expect(second.object["status"] as? String == "queued")
        let firstId = first.object["id"] as? Int ?? 0
        let secondId = second.object["id"] as? Int ?? 0
        #expect(second.headers["location"] == "/jobs/\(secondId)")
        let firstDone = try client.waitForJob(firstId)
        let secondDone = try client.waitForJob(secondId)
        #expect(firstDone["status"] as? String == "succeeded")
        #expect(secondDone["status"] as? String == "succeeded", "\(secondDone)")
        let firstFinished = Probe.date(firstDone["finished_at"])
        let secondStarted = Probe.date(secondDone["started_at"])
        #expect(firstFinished != nil && secondStarted != nil)
        if let firstFinished, let secondStarted {
            #expect(secondStarted >= firstFinished, "job \(secondId) started \(secondStarted) before job \(firstId) finished \(firstFinished)")
        }
        for node in cluster.nodes { #expect(try Probe.nodeTimeout(node) == "4000") }

        // A slow job (8000 slots with keys), then one behind it, cancelled at once.
        try Probe.writeKeys(cluster, prefix: "slow", count: 20000)
        let target = try Probe.myId(cluster.nodes[2])
        let targetBefore = try Probe.ownership(cluster.nodes[0])[target]?.count ?? 0
        let slow = try client.post("/clusters/queue/reshard", #"{"to":"\#(target)","slots":8000}"#)
        #expect(slow.status == 202)
        let slowId = slow.object["id"] as? Int ?? 0
        let queued = try client.post("/clusters/queue/set-timeout", #"{"node_timeout_ms":5000}"#)
        #expect(queued.status == 202)
        #expect(queued.object["status"] as? String == "queued")
        let queuedId = queued.object["id"] as? Int ?? 0
        let cancelled = try client.post("/jobs/\(queuedId)/cancel")
        let slowAtCancel = try client.get("/jobs/\(slowId)").object["status"] as? String
        #expect(cancelled.status == 200, "\(cancelled.text) (the slow job was \(slowAtCancel ?? "?"))")
        #expect(cancelled.object["status"] as? String == "cancelled")
        #expect(cancelled.object["cancel_requested"] as? Bool == true)

        // The cluster cannot be forgotten while its job runs.
        let busy = try client.delete("/clusters/queue")
        let slowAtDelete = try client.get("/jobs/\(slowId)").object["status"] as? String
        #expect(busy.status == 409, "DELETE answered \(busy.status) while job \(slowId) was \(slowAtDelete ?? "?")")
        #expect(try client.get("/clusters/queue").status == 200)

        let slowDone = try client.waitForJob(slowId, timeout: 180)
        #expect(slowDone["status"] as? String == "succeeded", "\(slowDone)")
        let started = Probe.date(slowDone["started_at"]), finished = Probe.date(slowDone["finished_at"])
        if let started, let finished {
            // The cancel and the DELETE above landed while it ran only if it ran long enough to be sure of it.
            #expect(finished.timeIntervalSince(started) > 0.5, "the slow job took only \(finished.timeIntervalSince(started)) s")
        }
        let afterwards = try client.get("/jobs/\(queuedId)").object
        #expect(afterwards["status"] as? String == "cancelled")
        #expect(afterwards["started_at"] is NSNull)
        // It never ran: the timeout it would have set is not on any node.
        Thread.sleep(forTimeInterval: 1.5)
        for node in cluster.nodes { #expect(try Probe.nodeTimeout(node) == "4000") }
        #expect(try Probe.ownership(cluster.nodes[0])[target]?.count ?? 0 == targetBefore + 8000)

        // Finished jobs cannot be cancelled.
        #expect(try client.post("/jobs/\(slowId)/cancel").status == 409)
        #expect(try client.post("/jobs/\(queuedId)/cancel").status == 409)
        #expect(try client.post("/jobs/999999/cancel").status == 404)
        let listed = try Probe.jobIds(client, cluster: "queue")
        #expect(listed == [queuedId, slowId, secondId, firstId])

        #expect(try client.delete("/clusters/queue").status == 204)
    }
}

/// Independent reads of the live nodes (redis-cli, CLUSTER NODES parsed here) and small HTTP helpers, for
/// JobOperationsIntegrationTests only.
enum JobOpsProbe {
    /// One line of CLUSTER NODES.
    struct Line: CustomStringConvertible {
        var id: String
        var address: String
        var flags: [String]
        var masterId: String?
        var slots: Set<Int>
        var open: [String]

        var isMaster: Bool { flags.contains("master") }
        var isReplica: Bool { flags.contains("slave") }
        var isMyself: Bool { flags.contains("myself") }
        var description: String { "\(id.prefix(8)) \(address) \(flags.joined(separator: ",")) master=\(masterId ?? "-") slots=\(JobOpsProbe.rangesText(slots))" }
    }

    struct Setup {
        let cluster: TestCluster
        let service: TestService
        let newNode: RedisNodeProcess
        let newId: String

        func stop() {
            service.stop()
            cluster.stop()
        }
    }

    /// Three masters formed by redis-cli, registered, and a fourth node added as an empty master through the API.
    static func threeMastersAndAnEmptyOne(_ id: String) throws -> Setup {
        let cluster = try TestCluster(nodes: 4)
        try cluster.create(count: 3, replicas: 0)
        let service = try TestService()
        try register(service.client, id, cluster.nodes[0])
        let newNode = cluster.nodes[3]
        let job = try service.client.runJob(id, "add-node", #"{"address":"\#(newNode.address)"}"#)
        guard job["status"] as? String == "succeeded" else {
            service.stop()
            cluster.stop()
            throw TestFailure("add-node failed: \(job)")
        }
        let newId = try myId(newNode)
        for node in cluster.nodes {
            let line = try lines(node).first { $0.id == newId }
            #expect(line?.isMaster == true && line?.slots.isEmpty == true, "\(node.address) sees \(String(describing: line))")
        }
        return Setup(cluster: cluster, service: service, newNode: newNode, newId: newId)
    }

    static func register(_ client: HTTPTestClient, _ id: String, _ seed: RedisNodeProcess) throws {
        let response = try client.post("/clusters", #"{"id":"\#(id)","seeds":["\#(seed.address)"]}"#)
        guard response.status == 201 else { throw TestFailure("registering \(id): \(response.status) \(response.text)") }
    }

    /// Ids of the cluster's jobs, newest first.
    static func jobIds(_ client: HTTPTestClient, cluster: String) throws -> [Int] {
        let items = try client.get("/jobs?cluster_id=\(cluster)&limit=500").object["items"] as? [[String: Any]] ?? []
        return items.compactMap { $0["id"] as? Int }
    }

    // MARK: Redis side

    static func lines(_ node: RedisNodeProcess) throws -> [Line] {
        try node.cli(["CLUSTER", "NODES"]).split(separator: "\n").compactMap { raw in
            let fields = raw.split(separator: " ").map(String.init)
            guard fields.count >= 8 else { return nil }
            var slots = Set<Int>()
            var open: [String] = []
            for token in fields.dropFirst(8) {
                if token.hasPrefix("[") {
                    open.append(token)
                } else if let dash = token.firstIndex(of: "-"), let low = Int(token[..<dash]),
                          let high = Int(token[token.index(after: dash)...]) {
                    slots.formUnion(low...high)
                } else if let single = Int(token) {
                    slots.insert(single)
                }
            }
            let address = String(fields[1].split(separator: "@").first ?? "")
            return Line(id: fields[0], address: address, flags: fields[2].split(separator: ",").map(String.init),
                        masterId: fields[3] == "-" ? nil : fields[3], slots: slots, open: open)
        }
    }

    static func myself(_ node: RedisNodeProcess) throws -> Line {
        guard let me = try lines(node).first(where: \.isMyself) else { throw TestFailure("\(node.address): no myself line") }
        return me
    }

    static func myId(_ node: RedisNodeProcess) throws -> String {
        let id = try node.cli(["CLUSTER", "MYID"]).opsTrimmed
        guard id.count == 40 else { throw TestFailure("\(node.address): CLUSTER MYID answered '\(id)'") }
        return id
    }

    /// Master id → slots, as `node` sees it (masters without slots left out).
    static func ownership(_ node: RedisNodeProcess) throws -> [String: Set<Int>] {
        var result: [String: Set<Int>] = [:]
        for line in try lines(node) where line.isMaster && !line.slots.isEmpty { result[line.id] = line.slots }
        return result
    }

    /// Every running node's view: each node's role, master and slots, and any open slot.
    static func slotViews(_ cluster: TestCluster) throws -> [[String: String]] {
        try cluster.nodes.filter(\.isRunning).map { node in
            Dictionary(uniqueKeysWithValues: try lines(node).map { line in
                (line.id, "\(line.isMaster ? "master" : "replica of \(line.masterId ?? "-")") \(rangesText(line.slots)) \(line.open)")
            })
        }
    }

    /// The process that owns `slot`, in the first node's view.
    static func owner(of slot: Int, in cluster: TestCluster) throws -> RedisNodeProcess {
        guard let line = try lines(cluster.nodes[0]).first(where: { $0.isMaster && $0.slots.contains(slot) }),
              let node = cluster.nodes.first(where: { $0.address == line.address }) else {
            throw TestFailure("no owner of slot \(slot)")
        }
        return node
    }

    /// A key (a bare hash tag, usable as `{tag}`-free key or as a prefix) that hashes to `slot`.
    static func key(inSlot slot: Int, _ prefix: String) -> String {
        var index = 0
        while HashSlot.slot(for: "\(prefix)\(index)") != slot { index += 1 }
        return "\(prefix)\(index)"
    }

    /// On `node`, one connection: open `slot` as importing, write the key with ASKING, close the slot again —
    /// a key left behind where the node does not own the slot.
    static func plantOrphan(on node: RedisNodeProcess, slot: Int, importingFrom owner: String, key: String, value: String) throws {
        let replies = try cliInput(node, ["CLUSTER SETSLOT \(slot) IMPORTING \(owner)", "ASKING", "SET \(key) \(value)",
                                          "CLUSTER SETSLOT \(slot) STABLE"])
        guard replies == ["OK", "OK", "OK", "OK"] else { throw TestFailure("planting \(key) on \(node.address): \(replies)") }
        let count = try node.cli(["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]).opsTrimmed
        guard count == "1" else { throw TestFailure("\(node.address) holds \(count) keys in slot \(slot)") }
    }

    /// The value of a key `node` holds in a slot it does not own (read the way it was planted), leaving the slot stable.
    static func peekOrphan(on node: RedisNodeProcess, slot: Int, importingFrom owner: String, key: String) throws -> String? {
        let replies = try cliInput(node, ["CLUSTER SETSLOT \(slot) IMPORTING \(owner)", "ASKING", "GET \(key)",
                                          "CLUSTER SETSLOT \(slot) STABLE"])
        return replies.count == 4 ? replies[2] : nil
    }

    /// Feeds commands to one redis-cli on standard input (one connection; with `clusterMode`, -c follows
    /// redirections); one reply line per command, redirection notices dropped.
    static func cliInput(_ node: RedisNodeProcess, _ commands: [String], clusterMode: Bool = false) throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jobops-\(UUID().uuidString).txt")
        try (commands.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = ["-h", "127.0.0.1", "-p", "\(node.port)"] + (clusterMode ? ["-c"] : [])
        process.standardInput = try FileHandle(forReadingFrom: file)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.contains("-> Redirected") }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// Writes `prefix:i` = `i` for every i, each key straight to its owner (one redis-cli per master).
    static func writeKeys(_ cluster: TestCluster, prefix: String, count: Int) throws {
        let view = try lines(cluster.nodes[0]).filter(\.isMaster)
        var byOwner: [String: [String]] = [:]
        for index in 0..<count {
            let key = "\(prefix):\(index)"
            let slot = HashSlot.slot(for: key)
            guard let owner = view.first(where: { $0.slots.contains(slot) }) else { throw TestFailure("slot \(slot) unowned") }
            byOwner[owner.address, default: []].append("SET \(key) \(index)")
        }
        for (address, commands) in byOwner {
            let node = cluster.nodes.first { $0.address == address }!
            let replies = try cliInput(node, commands)
            guard replies.count == commands.count, replies.allSatisfy({ $0 == "OK" }) else {
                throw TestFailure("writing keys to \(address): \(Set(replies))")
            }
        }
    }

    static func nodeTimeout(_ node: RedisNodeProcess) throws -> String {
        let lines = try node.cli(["CONFIG", "GET", "cluster-node-timeout"]).split(separator: "\n")
        return lines.count == 2 ? String(lines[1]) : lines.joined(separator: " ")
    }

    /// Every running node sees `replica` as a master owning `slots`, and `oldMaster` as its replica (bounded wait).
    static func expectPromoted(_ replica: String, over oldMaster: String, slots: Set<Int>, in cluster: TestCluster,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        var last: [String] = []
        let settled = eventually(20) {
            last = []
            for node in cluster.nodes {
                guard let view = try? lines(node) else { last.append("\(node.address): unreadable"); continue }
                let promoted = view.first { $0.id == replica }
                let demoted = view.first { $0.id == oldMaster }
                if !(promoted?.isMaster == true && promoted?.slots == slots && demoted?.isReplica == true && demoted?.masterId == replica) {
                    last.append("\(node.address): \(String(describing: promoted)) / \(String(describing: demoted))")
                }
            }
            return last.isEmpty
        }
        #expect(settled, "not every node sees \(replica.prefix(8)) promoted over \(oldMaster.prefix(8)): \(last)",
                sourceLocation: sourceLocation)
    }

    // MARK: Values

    static func slots(_ value: Any?) -> Set<Int> {
        var result = Set<Int>()
        for pair in value as? [[Int]] ?? [] where pair.count == 2 && pair[0] <= pair[1] { result.formUnion(pair[0]...pair[1]) }
        return result
    }

    /// "0-1364,5461-6826": sorted inclusive ranges.
    static func rangesText(_ slots: Set<Int>) -> String {
        var parts: [String] = []
        var start: Int?
        var previous = -2
        for slot in slots.sorted() {
            if slot != previous + 1 {
                if let start { parts.append(start == previous ? "\(start)" : "\(start)-\(previous)") }
                start = slot
            }
            previous = slot
        }
        if let start { parts.append(start == previous ? "\(start)" : "\(start)-\(previous)") }
        return parts.joined(separator: ",")
    }

    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` seconds pass.
    static func eventually(_ timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        return false
    }
}

private extension String {
    var opsTrimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
