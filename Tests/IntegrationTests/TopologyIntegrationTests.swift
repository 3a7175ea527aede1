import Foundation
import Testing

/// Registration, live topology, snapshots and deletion against a real 3-master/3-replica cluster, over real HTTP.
@Suite(.serialized)
struct TopologyIntegrationTests {
    @Test func registerReadTopologySnapshotAndDelete() throws {
        let cluster = try TestCluster(nodes: 6)
        defer { cluster.stop() }
        try cluster.create(replicas: 1)
        for index in 0..<200 {
            try cluster.nodes[0].cli(["-c", "SET", "key:\(index)", "value:\(index)"])
        }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client

        let registered = try client.post("/clusters", #"{"id":"it-plain","seeds":["\#(cluster.nodes[0].address)"]}"#)
        #expect(registered.status == 201)
        #expect(registered.headers["location"] == "/clusters/it-plain")
        #expect(registered.object["has_password"] as? Bool == false)
        #expect(try client.post("/clusters", #"{"id":"it-plain","seeds":["\#(cluster.nodes[1].address)"]}"#).status == 409)

        let topology = try client.get("/clusters/it-plain/topology")
        #expect(topology.status == 200)
        let nodes = topology.object["nodes"] as? [[String: Any]] ?? []
        let masters = nodes.filter { $0["role"] as? String == "master" }
        let replicas = nodes.filter { $0["role"] as? String == "replica" }
        #expect(masters.count == 3)
        #expect(replicas.count == 3)
        #expect(masters.compactMap { $0["slot_count"] as? Int }.sorted() == [5461, 5461, 5462])
        #expect(masters.allSatisfy { ($0["replicas"] as? [String])?.count == 1 })
        let masterIds = Set(masters.compactMap { $0["id"] as? String })
        #expect(Set(replicas.compactMap { $0["master_id"] as? String }) == masterIds)
        let checks = topology.object["checks"] as? [String: Any] ?? [:]
        #expect(checks["ok"] as? Bool == true)
        #expect(checks["slots_covered"] as? Bool == true)
        #expect(checks["nodes_agree"] as? Bool == true)
        #expect((checks["open_slots"] as? [Any])?.isEmpty == true)
        let summary = topology.object["summary"] as? [String: Any] ?? [:]
        #expect(summary["keys"] as? Int == 200)

        // The ids we report are the ids redis-cli sees.
        let cliNodes = try cluster.nodes[0].cli(["CLUSTER", "NODES"])
        for id in masterIds { #expect(cliNodes.contains("\(id) ")) }

        // Snapshots are stored and read back.
        let snapshot = try client.post("/clusters/it-plain/snapshots")
        #expect(snapshot.status == 201)
        let snapshotId = snapshot.object["id"] as? Int ?? -1
        #expect(snapshot.headers["location"] == "/clusters/it-plain/snapshots/\(snapshotId)")
        let stored = try client.get("/clusters/it-plain/snapshots/\(snapshotId)")
        #expect(stored.status == 200)
        let storedNodes = (stored.object["topology"] as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
        #expect(storedNodes.count == 6)
        let list = try client.get("/clusters/it-plain/snapshots")
        #expect((list.object["items"] as? [[String: Any]])?.first?["id"] as? Int == snapshotId)
        #expect(try client.get("/clusters/it-plain/snapshots/999999").status == 404)

        // An open slot shows up as redis-cli --cluster check reports it.
        let target = masters.first { ($0["address"] as? String) != cluster.nodes[0].address }?["id"] as? String ?? ""
        let ownerOfZero = masters.first { (($0["slots"] as? [[Int]])?.first?.first) == 0 }
        let ownerAddress = ownerOfZero?["address"] as? String ?? ""
        let owner = cluster.nodes.first { $0.address == ownerAddress }!
        let otherMaster = masters.first { ($0["address"] as? String) != ownerAddress }?["id"] as? String ?? target
        try owner.cli(["CLUSTER", "SETSLOT", "0", "MIGRATING", otherMaster])
        let open = try client.get("/clusters/it-plain/topology").object["checks"] as? [String: Any] ?? [:]
        #expect(open["ok"] as? Bool == false)
        let openSlots = open["open_slots"] as? [[String: Any]] ?? []
        #expect(openSlots.contains { $0["slot"] as? Int == 0 && $0["state"] as? String == "migrating" && $0["peer"] as? String == otherMaster })
        try owner.cli(["CLUSTER", "SETSLOT", "0", "STABLE"])

        // A dead replica is reported unreachable, then failing once the others have flagged it.
        let replicaAddress = replicas.first?["address"] as? String ?? ""
        let replicaNode = cluster.nodes.first { $0.address == replicaAddress }!
        replicaNode.kill()
        var failing: [String] = []
        var unreachable: [String] = []
        for _ in 0..<60 {
            let checks = try client.get("/clusters/it-plain/topology").object["checks"] as? [String: Any] ?? [:]
            failing = checks["failing_nodes"] as? [String] ?? []
            unreachable = checks["unreachable_nodes"] as? [String] ?? []
            if !failing.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        #expect(unreachable.contains { $0.contains(replicaAddress) })
        #expect(failing.contains { $0.contains(replicaAddress) || $0.contains(replicas.first?["id"] as? String ?? "-") })

        #expect(try client.delete("/clusters/it-plain").status == 204)
        #expect(try client.get("/clusters/it-plain").status == 404)
        #expect(try client.get("/clusters/it-plain/topology").status == 404)
    }

    @Test func passwordProtectedCluster() throws {
        let secret = "s3cret-Pa55"
        let cluster = try TestCluster(nodes: 6, password: secret)
        defer { cluster.stop() }
        try cluster.create(replicas: 1)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        let seed = cluster.nodes[2].address

        let missing = try client.post("/clusters", #"{"id":"locked","seeds":["\#(seed)"]}"#)
        #expect(missing.status == 422)
        #expect(missing.headers["content-type"]?.hasPrefix("application/problem+json") == true)
        let wrong = try client.post("/clusters", #"{"id":"locked","seeds":["\#(seed)"],"password":"nope"}"#)
        #expect(wrong.status == 422)
        #expect(wrong.text.contains("authentication"))

        let registered = try client.post("/clusters", #"{"id":"locked","seeds":["\#(seed)"],"password":"\#(secret)"}"#)
        #expect(registered.status == 201)
        #expect(registered.object["has_password"] as? Bool == true)
        #expect(!registered.text.contains(secret))

        let topology = try client.get("/clusters/locked/topology")
        #expect(topology.status == 200)
        #expect((topology.object["checks"] as? [String: Any])?["ok"] as? Bool == true)
        #expect((topology.object["nodes"] as? [Any])?.count == 6)
        #expect(!topology.text.contains(secret))

        let snapshot = try client.post("/clusters/locked/snapshots")
        #expect(snapshot.status == 201)
        #expect(!snapshot.text.contains(secret))
        #expect(!(try client.get("/clusters/locked").text.contains(secret)))
        #expect(!(try client.get("/clusters").text.contains(secret)))
    }

    @Test func aclUserCluster() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        for node in cluster.nodes {
            try node.cli(["ACL", "SETUSER", "operator", "on", ">op-pass", "~*", "&*", "+@all"])
            try node.cli(["ACL", "SETUSER", "default", "off"])
        }
        let service = try TestService()
        defer { service.stop() }
        let seed = cluster.nodes[0].address
        let wrong = try service.client.post("/clusters", #"{"id":"acl","seeds":["\#(seed)"],"username":"operator","password":"bad"}"#)
        #expect(wrong.status == 422)
        let registered = try service.client.post("/clusters", #"{"id":"acl","seeds":["\#(seed)"],"username":"operator","password":"op-pass"}"#)
        #expect(registered.status == 201)
        #expect(registered.object["username"] as? String == "operator")
        // Three lone nodes, no slots: the topology says so rather than failing.
        let topology = try service.client.get("/clusters/acl/topology")
        #expect(topology.status == 200)
        let checks = topology.object["checks"] as? [String: Any] ?? [:]
        #expect(checks["slots_covered"] as? Bool == false)
        #expect((topology.object["nodes"] as? [Any])?.count == 1)
    }

    @Test func unreachableSeedIsRejected() throws {
        let service = try TestService()
        defer { service.stop() }
        let port = PortAllocator.redisPort()
        let response = try service.client.post("/clusters", #"{"id":"gone","seeds":["127.0.0.1:\#(port)"]}"#)
        #expect(response.status == 422)
        #expect(response.object["detail"] as? String != nil)
        #expect((response.object["detail"] as? String ?? "").contains("127.0.0.1:\(port)"))
        #expect(try service.client.get("/clusters/gone").status == 404)
    }
}
