import Foundation
import Glibc
import Testing

/// A network namespace joined to this one by a veth pair, for nodes the service can reach only at an address they do
/// not announce. Addresses come from 198.18.0.0/15 (benchmarking, never routed) with a /30 picked per run; the
/// namespace, its veth pair and every process started in it go with `remove()`.
final class NetworkNamespace: @unchecked Sendable {
    static let ip = "/usr/sbin/ip"
    let name: String
    let hostInterface: String
    let hostAddress: String
    /// Where the service reaches the namespace's nodes.
    let address: String
    private var processes: [Process] = []
    private let lock = NSLock()

    /// True when this machine lets us create network namespaces (root, or CAP_SYS_ADMIN and CAP_NET_ADMIN).
    static let permitted: Bool = {
        guard FileManager.default.isExecutableFile(atPath: ip), FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server")
        else { return false }
        let probe = "rcm-probe-\(getpid())"
        guard (try? run(ip, ["netns", "add", probe]))?.status == 0 else { return false }
        return (try? run(ip, ["netns", "del", probe]))?.status == 0
    }()

    init() throws {
        let tag = String(UInt32.random(in: 0..<0xffffff), radix: 16)
        name = "rcm-nat-\(getpid())-\(tag)"
        hostInterface = "rcmh\(tag)"
        let third = Int.random(in: 0...255)
        let fourth = Int.random(in: 0...63) * 4
        hostAddress = "198.18.\(third).\(fourth + 1)"
        address = "198.18.\(third).\(fourth + 2)"
        let nsInterface = "rcmn\(tag)"
        do {
            try Self.must(["netns", "add", name])
            try Self.must(["link", "add", hostInterface, "type", "veth", "peer", "name", nsInterface])
            try Self.must(["link", "set", nsInterface, "netns", name])
            try Self.must(["addr", "add", "\(hostAddress)/30", "dev", hostInterface])
            try Self.must(["link", "set", hostInterface, "up"])
            try Self.must(["netns", "exec", name, Self.ip, "addr", "add", "\(address)/30", "dev", nsInterface])
            try Self.must(["netns", "exec", name, Self.ip, "link", "set", nsInterface, "up"])
            try Self.must(["netns", "exec", name, Self.ip, "link", "set", "lo", "up"])
            // Inside, the nodes must not reach each other at the address the service dials: a MIGRATE or MEET naming
            // it fails, as it would behind real NAT. Locally sent packets to it are refused ahead of the local table.
            try Self.must(["netns", "exec", name, Self.ip, "rule", "add", "pref", "100", "lookup", "local"])
            try Self.must(["netns", "exec", name, Self.ip, "rule", "del", "pref", "0"])
            try Self.must(["netns", "exec", name, Self.ip, "rule", "add", "pref", "10", "to", address, "iif", "lo", "prohibit"])
        } catch {
            remove()
            throw error
        }
    }

    /// A cluster-enabled redis-server inside the namespace on `port`, announcing the namespace's own loopback address
    /// (which the service cannot reach) and listening on every address of the namespace.
    func startNode(port: Int, directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ip)
        // `ip netns exec` execs redis-server: the process is the server itself.
        process.arguments = ["netns", "exec", name, "/usr/bin/redis-server", "--port", "\(port)", "--bind", "0.0.0.0",
                             "--protected-mode", "no", "--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(port).conf",
                             "--cluster-node-timeout", "2000", "--cluster-announce-ip", "127.0.0.1", "--dir", directory.path,
                             "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { processes.append(process) }
        for _ in 0..<100 {
            if (try? cli(["-p", "\(port)", "PING"]))?.contains("PONG") == true { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("redis-server on \(port) in \(name) did not answer PING")
    }

    /// redis-cli run inside the namespace (where 127.0.0.1 is the nodes' own loopback); its standard output.
    @discardableResult
    func cli(_ arguments: [String]) throws -> String {
        try Self.run(Self.ip, ["netns", "exec", name, "/usr/bin/redis-cli"] + arguments).output
    }

    /// Stops every node started here (by its process), then deletes the namespace and the veth pair.
    func remove() {
        let started = lock.withLock { processes }
        for process in started where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        _ = try? Self.run(Self.ip, ["netns", "del", name])
        // Deleting the namespace destroys its end of the pair, and with it ours; this is for a half-built setup.
        _ = try? Self.run(Self.ip, ["link", "del", hostInterface])
    }

    private static func must(_ arguments: [String]) throws {
        let result = try run(ip, arguments)
        guard result.status == 0 else { throw TestFailure("ip \(arguments.joined(separator: " ")) failed: \(result.error)") }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

/// Nodes that announce 127.0.0.1 inside a network namespace, reached by the service only through an address map:
/// registration, topology, add-node, reshard and del-node all go through the map, while the nodes keep talking
/// to each other (MEET, MIGRATE) at the addresses they announce.
@Suite(.serialized, .enabled(if: NetworkNamespace.permitted, "needs permission to create network namespaces (ip netns)"))
struct AddressMapIntegrationTests {
    @Test func jobsReachNodesBehindAnAddressMap() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-nat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        // Ports free on this host's loopback: a map that was not applied would find nothing there, not someone else's node.
        let ports = (0..<4).map { _ in PortAllocator.redisPort() }
        for port in ports { try namespace.startNode(port: port, directory: directory.appendingPathComponent("\(port)")) }
        let announced = ports.map { "127.0.0.1:\($0)" }
        let reachable = ports.map { "\(namespace.address):\($0)" }

        let created = try namespace.cli(["--cluster", "create"] + announced.prefix(3) + ["--cluster-yes"])
        #expect(created.contains("[OK] All 16384 slots covered."), "\(created)")
        for port in ports.prefix(3) {
            for _ in 0..<100 {
                if try namespace.cli(["-p", "\(port)", "CLUSTER", "INFO"]).contains("cluster_state:ok") { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        let keys = (0..<200).map { "nat:\($0)" }
        for key in keys {
            // A node may still answer CLUSTERDOWN for a moment after the others agree.
            for _ in 0..<50 {
                if try namespace.cli(["-c", "-p", "\(ports[0])", "SET", key, "v-\(key)"]).contains("OK") { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }

        let databasePath = directory.appendingPathComponent("service.sqlite").path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let service = try ServiceProcess(databasePath: databasePath, arguments: ["--allow-remote-nodes"])
        defer { _ = service.terminate() }
        let client = service.client

        // Without the map, the announced address leads nowhere from here.
        let inside = try NetworkNamespace.run(NetworkNamespace.ip, ["netns", "exec", namespace.name, "/usr/bin/redis-cli", "-h", namespace.address,
                                                                    "-p", "\(ports[0])", "PING"])
        #expect(!(inside.output + inside.error).contains("PONG"), "the nodes reach \(namespace.address) from inside")
        let unmapped = try client.post("/clusters", #"{"id":"nat","seeds":["\#(announced[0])"]}"#)
        #expect(unmapped.status == 422, "\(unmapped.text)")

        let rule = #"{"rules":[{"announced":"127.0.0.0/8","reachable":"\#(namespace.address)"}]}"#
        let registered = try client.post("/clusters", #"{"id":"nat","seeds":["\#(announced[0])"],"address_map":\#(rule)}"#)
        #expect(registered.status == 201, "\(registered.text)")
        let shownRules = (registered.object["address_map"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []
        #expect(shownRules.first?["reachable"] as? String == namespace.address)
        #expect(shownRules.first?["port_offset"] as? Int == 0)

        var topology = try client.topology("nat")
        var nodes = topology["nodes"] as? [[String: Any]] ?? []
        #expect(nodes.count == 3)
        #expect(Set(nodes.compactMap { $0["address"] as? String }) == Set(announced.prefix(3)))
        #expect(nodes.allSatisfy { $0["reachable_address"] as? String == ($0["address"] as? String)?.replacingOccurrences(of: "127.0.0.1", with: namespace.address) })
        #expect(nodes.allSatisfy { $0["reachable"] as? Bool == true })
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true, "\(topology)")
        #expect((topology["summary"] as? [String: Any])?["keys"] as? Int == keys.count)

        // add-node names the new node by the address the service reaches it at; the members meet it at the one it announces.
        try client.runJob("nat", "add-node", #"{"address":"\#(reachable[3])"}"#)
        topology = try client.topology("nat")
        nodes = topology["nodes"] as? [[String: Any]] ?? []
        let added = nodes.first { $0["address"] as? String == announced[3] }
        #expect(added?["reachable_address"] as? String == reachable[3], "\(nodes)")
        #expect(nodes.count == 4)
        let membersView = try namespace.cli(["-p", "\(ports[0])", "CLUSTER", "NODES"])
        #expect(membersView.contains(" \(announced[3])@"), "\(membersView)")
        #expect(!membersView.contains(namespace.address), "\(membersView)")

        // reshard onto it, named by its reachable address: MIGRATE names the announced one, which the nodes reach.
        let reshard = try client.runJob("nat", "reshard", #"{"to":"\#(reachable[3])","slots":600}"#)
        #expect(reshard["status"] as? String == "succeeded")
        topology = try client.topology("nat")
        // As redis-cli does, each source gives its share rounded down.
        #expect((590...600).contains(masters(topology)[announced[3]]?["slot_count"] as? Int ?? 0))
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true, "\(topology)")
        let movedKeys = Int(try namespace.cli(["-p", "\(ports[3])", "DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(movedKeys > 0)
        for key in keys {
            #expect(try namespace.cli(["-c", "-p", "\(ports[0])", "GET", key]).trimmingCharacters(in: .whitespacesAndNewlines) == "v-\(key)")
        }

        // del-node by its announced address: drained back to the others, then forgotten.
        try client.runJob("nat", "del-node", #"{"node":"\#(announced[3])"}"#)
        topology = try client.topology("nat")
        #expect((topology["nodes"] as? [Any])?.count == 3)
        #expect((topology["summary"] as? [String: Any])?["keys"] as? Int == keys.count)
        for key in keys {
            #expect(try namespace.cli(["-c", "-p", "\(ports[1])", "GET", key]).trimmingCharacters(in: .whitespacesAndNewlines) == "v-\(key)")
        }
        let check = try namespace.cli(["--cluster", "check", announced[0]])
        #expect(check.contains("[OK] All nodes agree about slots configuration.") && check.contains("[OK] All 16384 slots covered.")
                && !check.contains("[ERR]") && !check.contains("[WARNING]"), "\(check)")
        #expect(!check.contains(announced[3]))

        // Exact entries, the seed given by its reachable address: the same cluster, the same announced addresses.
        let exact = (0..<3).map { #""\#(announced[$0])":"\#(reachable[$0])""# }.joined(separator: ",")
        let second = try client.post("/clusters", #"{"id":"nat-exact","seeds":["\#(reachable[1])"],"address_map":{"nodes":{\#(exact)}}}"#)
        #expect(second.status == 201, "\(second.text)")
        #expect(((second.object["address_map"] as? [String: Any])?["nodes"] as? [String: String])?[announced[0]] == reachable[0])
        let exactNodes = try client.topology("nat-exact")["nodes"] as? [[String: Any]] ?? []
        #expect(exactNodes.count == 3)
        for index in 0..<3 {
            #expect(exactNodes.contains { $0["address"] as? String == announced[index] && $0["reachable_address"] as? String == reachable[index] },
                    "\(exactNodes)")
        }
    }

    /// create from lone nodes registered by the addresses the service reaches them at (exact entries): CLUSTER MEET
    /// must name the address each node announces, since the nodes cannot reach the mapped ones.
    @Test func createBehindAnAddressMap() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-nat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        let ports = (0..<3).map { _ in PortAllocator.redisPort() }
        for port in ports { try namespace.startNode(port: port, directory: directory.appendingPathComponent("\(port)")) }
        let announced = ports.map { "127.0.0.1:\($0)" }
        let reachable = ports.map { "\(namespace.address):\($0)" }

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let service = try ServiceProcess(databasePath: directory.appendingPathComponent("service.sqlite").path,
                                         arguments: ["--allow-remote-nodes"])
        defer { _ = service.terminate() }
        let client = service.client
        let seeds = reachable.map { #""\#($0)""# }.joined(separator: ",")
        let exact = (0..<3).map { #""\#(announced[$0])":"\#(reachable[$0])""# }.joined(separator: ",")
        let registered = try client.post("/clusters", #"{"id":"nat-new","seeds":[\#(seeds)],"address_map":{"nodes":{\#(exact)}}}"#)
        #expect(registered.status == 201, "\(registered.text)")

        try client.runJob("nat-new", "create", #"{"replicas":0}"#)
        let topology = try client.topology("nat-new")
        let nodes = topology["nodes"] as? [[String: Any]] ?? []
        #expect(Set(nodes.compactMap { $0["address"] as? String }) == Set(announced), "\(nodes)")
        #expect(Set(nodes.compactMap { $0["reachable_address"] as? String }) == Set(reachable), "\(nodes)")
        #expect((topology["checks"] as? [String: Any])?["ok"] as? Bool == true, "\(topology)")
        let check = try namespace.cli(["--cluster", "check", announced[0]])
        #expect(check.contains("[OK] All nodes agree about slots configuration.") && check.contains("[OK] All 16384 slots covered.")
                && !check.contains("[ERR]") && !check.contains("[WARNING]"), "\(check)")
    }
}
