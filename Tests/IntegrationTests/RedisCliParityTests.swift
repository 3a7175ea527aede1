import Foundation
import Testing

/// The cases Redis's own `tests/unit/cluster/cli.tcl` checks `redis-cli --cluster` against, through the API:
/// nodes on custom cluster-bus ports named by `localhost`, and function libraries that follow add-node.
@Suite(.serialized)
struct RedisCliParityTests {
    /// `count` lone nodes; those in `customBus` listen for the cluster bus on a port other than port + 10000.
    static func nodes(_ count: Int, customBus: Set<Int>, bind: [String] = ["127.0.0.1"]) throws -> [RedisNodeProcess] {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-parity-\(UUID().uuidString)")
        let nodes = (0..<count).map { index in
            var extra = ["--bind"] + bind
            if customBus.contains(index) { extra += ["--cluster-port", "\(PortAllocator.redisPort())"] }
            return RedisNodeProcess(port: PortAllocator.redisPort(), directory: base.appendingPathComponent("node\(index)"),
                                    password: nil, extraArguments: extra)
        }
        for node in nodes { try node.start() }
        return nodes
    }

    /// The ids a node knows (handshakes excluded) and its cluster_state.
    static func known(_ node: RedisNodeProcess) -> (ids: Set<String>, state: String) {
        let nodes = ((try? node.cli(["CLUSTER", "NODES"])) ?? "").split(separator: "\n")
            .filter { !$0.contains("handshake") }.compactMap { $0.split(separator: " ").first.map(String.init) }
        let info = (try? node.cli(["CLUSTER", "INFO"])) ?? ""
        return (Set(nodes), info.contains("cluster_state:ok") ? "ok" : "not ok")
    }

    static func expectEveryNodeKnowsAll(_ nodes: [RedisNodeProcess], sourceLocation: SourceLocation = #_sourceLocation) {
        let deadline = Date().addingTimeInterval(20)
        var views = nodes.map(known)
        while Date() < deadline, !views.allSatisfy({ $0.ids.count == nodes.count && $0.state == "ok" }) {
            Thread.sleep(forTimeInterval: 0.2)
            views = nodes.map(known)
        }
        for (node, view) in zip(nodes, views) {
            #expect(view.ids.count == nodes.count && view.state == "ok",
                    "\(node.address) knows \(view.ids.count) of \(nodes.count) nodes, cluster_state \(view.state)",
                    sourceLocation: sourceLocation)
        }
    }

    /// cli.tcl "redis-cli -4 --cluster create/add-node using localhost with cluster-port": 3 nodes created and 2
    /// added, a mix of custom and default bus ports, every one named `localhost:PORT`. Every node then knows all 5.
    @Test func createAndAddNodesByLocalhostOnCustomBusPorts() throws {
        let nodes = try Self.nodes(5, customBus: [0, 2, 3])
        let service = try TestService()
        defer { service.stop(); nodes.forEach { $0.kill() } }
        let client = service.client
        let seeds = nodes.prefix(3).map { "\"localhost:\($0.port)\"" }.joined(separator: ",")
        #expect(try client.post("/clusters", #"{"id":"bus","seeds":[\#(seeds)]}"#).status == 201)
        let created = try client.runJob("bus", "create", #"{"replicas":0}"#)
        #expect((created["verification"] as? [String: Any])?["passed"] as? Bool == true, "\(created["verification"] ?? "")")
        try client.runJob("bus", "add-node", #"{"address":"localhost:\#(nodes[3].port)"}"#)
        try client.runJob("bus", "add-node", #"{"address":"localhost:\#(nodes[4].port)","role":"replica"}"#)
        Self.expectEveryNodeKnowsAll(nodes)
        // MEET named the bus port each node reports: the links run on the custom ports.
        let line = try nodes[1].cli(["CLUSTER", "NODES"]).split(separator: "\n").first { $0.contains(":\(nodes[3].port)@") }
        let busPort = nodes[3].extraArguments.last ?? "?"
        #expect(line?.contains("@\(busPort)") == true, "\(line ?? "no line for \(nodes[3].address)")")
        let topology = try client.topology("bus")
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true, "\(topology["checks"] ?? "")")
    }

    /// The same over IPv6 loopback: nodes named `[::1]:PORT`, one of them on a custom bus port.
    @Test func createAndAddNodesOverIPv6Loopback() throws {
        let nodes = try Self.nodes(4, customBus: [1, 3], bind: ["127.0.0.1", "::1"])
        let service = try TestService()
        defer { service.stop(); nodes.forEach { $0.kill() } }
        let client = service.client
        let seeds = nodes.prefix(3).map { "\"[::1]:\($0.port)\"" }.joined(separator: ",")
        #expect(try client.post("/clusters", #"{"id":"six","seeds":[\#(seeds)]}"#).status == 201)
        try client.runJob("six", "create", #"{"replicas":0}"#)
        try client.runJob("six", "add-node", #"{"address":"[::1]:\#(nodes[3].port)"}"#)
        Self.expectEveryNodeKnowsAll(nodes)
        let addresses = ((try client.topology("six"))["nodes"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
        #expect(addresses.count == 4 && addresses.allSatisfy { $0.hasPrefix("[::1]:") }, "\(addresses)")
    }

    static let library = "#!lua name=parity\nredis.register_function('getit', function(keys, args) return redis.call('get', keys[1]) end)"

    /// cli.tcl "Functions are added to new node on redis-cli cluster add-node": a library loaded on every master
    /// reaches a node added as a master and one added as a replica, and an FCALL on a slot moved to the new master
    /// works. A node that already holds functions, keys or other nodes is refused, naming what it holds.
    @Test func functionsFollowAddNodeAndOccupiedNodesAreRefused() throws {
        let cluster = try TestCluster(nodes: 8)
        try cluster.create(count: 3, replicas: 0)
        let service = try TestService()
        defer { service.stop(); cluster.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"fn","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        for master in cluster.nodes.prefix(3) {
            #expect(try master.cli(["FUNCTION", "LOAD", Self.library]).contains("parity"))
        }
        let (newMaster, newReplica) = (cluster.nodes[3], cluster.nodes[4])

        let dryRun = try client.post("/clusters/fn/add-node", #"{"address":"\#(newMaster.address)","dry_run":true}"#)
        let plan = dryRun.object["plan"] as? [String: Any] ?? [:]
        #expect((plan["summary"] as? String ?? "").contains("copies 1 function library (parity)"), "\(dryRun.text)")
        #expect((plan["functions"] as? [String: Any])?["libraries"] as? [String] == ["parity"], "\(dryRun.text)")

        try client.runJob("fn", "add-node", #"{"address":"\#(newMaster.address)"}"#)
        try client.runJob("fn", "add-node", #"{"address":"\#(newReplica.address)","role":"replica","master":"\#(newMaster.address)"}"#)
        for node in [newMaster, newReplica] {
            #expect(try node.cli(["FUNCTION", "LIST"]).contains("parity"), "\(node.address) has no library")
        }
        // A key's slot moved to the new master: FCALL there reads it.
        #expect(try cluster.nodes[0].cli(["-c", "SET", "{fn}key", "value"]).contains("OK"))
        let slot = try cluster.nodes[0].cli(["CLUSTER", "KEYSLOT", "{fn}key"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try client.runJob("fn", "reshard", #"{"to":"\#(newMaster.address)","slot_ranges":[[\#(slot),\#(slot)]]}"#)
        #expect(try newMaster.cli(["FCALL", "getit", "1", "{fn}key"]).trimmingCharacters(in: .whitespacesAndNewlines) == "value")

        // Occupied nodes: a foreign library, keys, another cluster's nodes. Each is a 422 before anything changes.
        let (withLibrary, withKeys, inCluster, partner) = (cluster.nodes[5], cluster.nodes[6], cluster.nodes[7], cluster.nodes[5])
        #expect(try withLibrary.cli(["FUNCTION", "LOAD", "#!lua name=stray\nredis.register_function('x', function() return 1 end)"]).contains("stray"))
        // A lone cluster node holds keys only in slots it serves: it serves the key's slot for the write, then not.
        let keySlot = try withKeys.cli(["CLUSTER", "KEYSLOT", "lonely"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try withKeys.cli(["CONFIG", "SET", "cluster-require-full-coverage", "no"])
        _ = try withKeys.cli(["CLUSTER", "ADDSLOTS", keySlot])
        let written = Date().addingTimeInterval(10)
        while Date() < written, try !withKeys.cli(["SET", "lonely", "1"]).contains("OK") { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try withKeys.cli(["DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        _ = try withKeys.cli(["CLUSTER", "DELSLOTS", keySlot])
        _ = try inCluster.cli(["CLUSTER", "MEET", "127.0.0.1", "\(partner.port)"])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, Self.known(inCluster).ids.count < 2 { Thread.sleep(forTimeInterval: 0.1) }
        let cases: [(RedisNodeProcess, String)] = [(withKeys, "1 key"), (inCluster, "1 known node")]
        for (node, held) in cases + [(withLibrary, "stray")] {
            let response = try client.post("/clusters/fn/add-node", #"{"address":"\#(node.address)"}"#)
            #expect(response.status == 422 && response.object["code"] as? String == "node_not_empty", "\(response.status) \(response.text)")
            #expect((response.object["detail"] as? String ?? "").contains(held), "\(response.text)")
        }
        #expect(Self.known(cluster.nodes[0]).ids.count == 5, "the cluster gained a member it should not have")
        #expect(try client.get("/jobs?cluster_id=fn&status=queued").text.contains("\"id\"") == false)
    }
}
