import Foundation

/// A set of real cluster-enabled redis-server (or valkey-server) processes in a temp directory, optionally formed
/// into a cluster with `redis-cli --cluster create` (an independent tool, so tests of our reading don't depend on
/// our writing).
final class TestCluster: @unchecked Sendable {
    let nodes: [RedisNodeProcess]
    let directory: URL
    let password: String?
    let server: ServerKind
    /// Set: every node speaks TLS only (clients, cluster bus, replication), with these certificates.
    let tls: TestCertificates?

    init(nodes count: Int, password: String? = nil, server: ServerKind = .redis, tls: TestCertificates? = nil,
         authClients: String = "no", persistent: Bool = false) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-test-\(UUID().uuidString)")
        directory = base
        self.password = password
        self.server = server
        self.tls = tls
        nodes = (0..<count).map { index in
            RedisNodeProcess(port: PortAllocator.redisPort(), directory: base.appendingPathComponent("node\(index)"),
                             password: password, server: server, tls: tls, authClients: authClients,
                             persistent: persistent)
        }
        for node in nodes { try node.start() }
    }

    /// Forms a cluster of the first `count` nodes and waits until redis-cli's check is clean.
    func create(count: Int? = nil, replicas: Int = 1) throws {
        let members = nodes.prefix(count ?? nodes.count)
        let arguments = ["--cluster", "create"] + members.map(\.address) + ["--cluster-replicas", "\(replicas)", "--cluster-yes"]
            + nodes[0].cliOptions
        let output = try RedisNodeProcess.run("/usr/bin/redis-cli", arguments)
        guard output.contains("[OK] All 16384 slots covered") else {
            throw TestFailure("redis-cli --cluster create failed:\n\(output)")
        }
        try waitUntilConsistent(Array(members))
    }

    /// Waits (bounded) until every node reports cluster_state:ok, redis-cli's check is clean, and every node
    /// knows every other node.
    func waitUntilConsistent(_ members: [RedisNodeProcess]? = nil, timeout: Double = 30) throws {
        let members = members ?? nodes.filter(\.isRunning)
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            let states = members.map { (try? $0.cli(["CLUSTER", "INFO"])) ?? "" }
            let known = members.map { node -> Int in
                let text = (try? node.cli(["CLUSTER", "NODES"])) ?? ""
                return text.split(separator: "\n").filter { !$0.contains("handshake") && !$0.contains("fail") }.count
            }
            last = check(members[0])
            if states.allSatisfy({ $0.contains("cluster_state:ok") }), known.allSatisfy({ $0 == members.count }),
               last.contains("[OK] All nodes agree"), last.contains("[OK] All 16384 slots covered"), !last.contains("[WARNING]") {
                return
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw TestFailure("cluster did not converge within \(timeout)s; last check:\n\(last)")
    }

    /// `redis-cli --cluster check` output from one node.
    func check(_ node: RedisNodeProcess) -> String {
        let arguments = ["--cluster", "check", node.address] + node.cliOptions
        return (try? RedisNodeProcess.run("/usr/bin/redis-cli", arguments)) ?? ""
    }

    func stop() {
        nodes.forEach { $0.kill() }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
