import ClusterModel
import Foundation
import RESP
import Testing

/// `POST /clusters/{id}/import` against real servers: a standalone redis-server's keys (strings, hashes, sets,
/// keys with hash tags) moved or copied into a 3-master cluster, key conflicts, a password-protected source that
/// never shows its password, refusals, and kill -9 of the service mid-import resuming from the SCAN cursor.
@Suite(.serialized)
struct ImportIntegrationTests {
    static let keyCount = 50_000

    /// A standalone (not cluster-enabled) server in `cluster`'s directory.
    static func standalone(in cluster: TestCluster, name: String, password: String? = nil) throws -> RedisNodeProcess {
        let node = RedisNodeProcess(port: PortAllocator.redisPort(), directory: cluster.directory.appendingPathComponent(name),
                                    password: password, clusterEnabled: false)
        try node.start()
        return node
    }

    @Test func movesAndCopiesEveryKeyOfAPasswordProtectedSource() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let password = "s3cret-source-pw"
        let source = try Self.standalone(in: cluster, name: "source", password: password)
        defer { source.kill() }
        try ImportData.write(count: Self.keyCount, to: source)
        #expect(try ImportData.dbsize(source) == Self.keyCount)

        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"imp","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)

        // Refusals name why: a wrong password, a cluster node, nothing listening; a username without a password.
        let wrong = try client.post("/clusters/imp/import", #"{"from":"\#(source.address)","password":"nope"}"#)
        #expect(wrong.status == 422, "\(wrong.text)")
        #expect(wrong.text.contains("authentication_failed"), "\(wrong.text)")
        let node = try client.post("/clusters/imp/import", #"{"from":"\#(cluster.nodes[1].address)"}"#)
        #expect(node.status == 422 && node.text.contains("node of this cluster"), "\(node.text)")
        let other = try client.post("/clusters/imp/import", #"{"from":"\#(cluster.nodes[3].address)"}"#)
        #expect(other.status == 422 && other.text.contains("cluster_enabled:1"), "\(other.text)")
        let nobody = try client.post("/clusters/imp/import", #"{"from":"127.0.0.1:\#(PortAllocator.redisPort())"}"#)
        #expect(nobody.status == 422 && nobody.text.contains("cannot be read"), "\(nobody.text)")
        let remote = try client.post("/clusters/imp/import", #"{"from":"10.255.255.1:6379"}"#)
        #expect(remote.status == 422 && remote.text.contains("loopback"), "\(remote.text)")
        #expect(try client.post("/clusters/imp/import", #"{"from":"\#(source.address)","username":"u"}"#).status == 400)

        // Dry run: the source, its DBSIZE and the targets; no password in sight.
        let body = #"{"from":"\#(source.address)","password":"\#(password)","copy":true"#
        let dry = try client.post("/clusters/imp/import", body + #","dry_run":true}"#)
        #expect(dry.status == 200, "\(dry.text)")
        let plan = dry.object["plan"] as? [String: Any] ?? [:]
        #expect(plan["source"] as? String == source.address)
        #expect(plan["source_keys"] as? Int == Self.keyCount)
        #expect((plan["targets"] as? [[String: Any]])?.count == 3)
        #expect(!dry.text.contains(password))

        // Copy: every key readable through the cluster, the source unchanged.
        let started = Date()
        let copied = try client.runJob("imp", "import", body + "}")
        let copySeconds = Date().timeIntervalSince(started)
        #expect((copied["progress"] as? [String: Any])?["keys_moved"] as? Int == Self.keyCount, "\(copied)")
        #expect(try ImportData.mismatches(count: Self.keyCount, seed: cluster.nodes[0].address).isEmpty)
        #expect(try ImportData.dbsize(source) == Self.keyCount)
        let params = copied["params"] as? [String: Any] ?? [:]
        #expect(params["password"] == nil && (params["password_sealed"] as? String)?.hasPrefix("v1:") == true, "\(params)")
        let job = copied["id"] as? Int ?? 0
        let events = try client.get("/jobs/\(job)/events").text
        let jobText = try client.get("/jobs/\(job)").text
        #expect(!events.contains(password) && !jobText.contains(password))
        for suffix in ["", "-wal"] {
            let file = (try? String(contentsOfFile: service.databasePath + suffix, encoding: .isoLatin1)) ?? ""
            #expect(!file.contains(password), "the password is in the database file\(suffix)")
        }

        // Copy again: every key is on both sides with the same value, so each is overwritten, and nothing fails.
        let againStarted = Date()
        let again = try client.runJob("imp", "import", #"{"from":"\#(source.address)","password":"\#(password)","copy":true,"max_keys_per_second":100000}"#)
        let againSeconds = Date().timeIntervalSince(againStarted)
        #expect(again["status"] as? String == "succeeded")
        #expect(try ImportData.dbsize(source) == Self.keyCount)

        // Move: the cluster emptied first, so every key goes; the source ends empty.
        for node in cluster.nodes.prefix(3) { try node.cli(["FLUSHALL"]) }
        let moveStarted = Date()
        let moved = try client.runJob("imp", "import", #"{"from":"\#(source.address)","password":"\#(password)"}"#)
        let moveSeconds = Date().timeIntervalSince(moveStarted)
        #expect((moved["progress"] as? [String: Any])?["keys_moved"] as? Int == Self.keyCount, "\(moved)")
        #expect(try ImportData.dbsize(source) == 0)
        #expect(try ImportData.mismatches(count: Self.keyCount, seed: cluster.nodes[0].address).isEmpty)
        print("import of \(Self.keyCount) keys: copy \(String(format: "%.2f", copySeconds)) s, copy again (all equal) "
              + "\(String(format: "%.2f", againSeconds)) s, move \(String(format: "%.2f", moveSeconds)) s")
    }

    @Test func aConflictingKeyFailsWithBusyKeysUnlessReplace() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let source = try Self.standalone(in: cluster, name: "source")
        defer { source.kill() }
        try ImportData.write(count: 2000, to: source)
        try source.cli(["SET", "{conflict}:a", "mine"])
        try source.cli(["SET", "{same}:b", "equal"])
        try ImportData.set("{conflict}:a", "theirs", seed: cluster.nodes[0].address)
        try ImportData.set("{same}:b", "equal", seed: cluster.nodes[0].address)

        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"conflict","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)

        let id = try client.submit("conflict", "import", #"{"from":"\#(source.address)"}"#)
        let failed = try client.waitForJob(id)
        #expect(failed["status"] as? String == "failed")
        let error = failed["error"] as? [String: Any] ?? [:]
        #expect(error["code"] as? String == "busy_keys", "\(failed)")
        #expect((error["message"] as? String)?.contains("{conflict}:a") == true, "\(error)")
        #expect((error["message"] as? String)?.contains("{same}:b") == false, "\(error)")
        #expect(try ImportData.get("{conflict}:a", seed: cluster.nodes[0].address) == "theirs")
        #expect(try source.cli(["GET", "{conflict}:a"]).contains("mine"))

        try client.runJob("conflict", "import", #"{"from":"\#(source.address)","replace":true}"#)
        #expect(try ImportData.get("{conflict}:a", seed: cluster.nodes[0].address) == "mine")
        #expect(try ImportData.get("{same}:b", seed: cluster.nodes[0].address) == "equal")
        #expect(try ImportData.mismatches(count: 2000, seed: cluster.nodes[0].address).isEmpty)
        #expect(try ImportData.dbsize(source) == 0)
    }

    @Test func killedMidImportResumesFromTheCheckpointedCursor() throws {
        let count = 20_000
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let password = "resume-pw"
        let source = try Self.standalone(in: cluster, name: "source", password: password)
        defer { source.kill() }
        try ImportData.write(count: count, to: source)

        let database = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-import-\(UUID().uuidString).sqlite").path
        var service: ServiceProcess? = try ServiceProcess(databasePath: database)
        #expect(try service!.client.post("/clusters", #"{"id":"resume","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        let job = try service!.client.submit("resume", "import",
                                             #"{"from":"\#(source.address)","password":"\#(password)","max_keys_per_second":5000}"#)
        var movedAtKill = 0
        for _ in 0..<2000 {
            let state = try service!.client.get("/jobs/\(job)").object
            movedAtKill = (state["progress"] as? [String: Any])?["keys_moved"] as? Int ?? 0
            if movedAtKill >= 4000 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        service!.kill9()
        let firstLog = service!.log
        service = nil
        #expect(movedAtKill >= 4000 && movedAtKill < count, "keys moved at the kill: \(movedAtKill)")
        let leftAtKill = try ImportData.dbsize(source)
        #expect(leftAtKill > 0 && leftAtKill < count)

        let restarted = try ServiceProcess(databasePath: database)
        let finished = try restarted.client.waitForJob(job)
        #expect(finished["status"] as? String == "succeeded", "\(finished)")
        let events = try restarted.client.get("/jobs/\(job)/events").object["items"] as? [[String: Any]] ?? []
        let messages = events.compactMap { $0["message"] as? String }
        let resumed = messages.first { $0.contains("resuming the scan") } ?? ""
        #expect(!resumed.isEmpty && !resumed.contains("from cursor 0,"), "\(messages)")
        // Progress carried on from the checkpoint: the keys counted before the kill were not counted again.
        let total = (finished["progress"] as? [String: Any])?["keys_moved"] as? Int ?? 0
        #expect(total >= movedAtKill && total <= count, "keys_moved \(total), at the kill \(movedAtKill)")
        print("import killed at \(movedAtKill) keys moved (\(leftAtKill) left on the source); \(resumed); finished with \(total)")
        #expect(try ImportData.dbsize(source) == 0)
        #expect(try ImportData.mismatches(count: count, seed: cluster.nodes[0].address).isEmpty)
        #expect(!firstLog.contains(password) && !restarted.log.contains(password))
        #expect(restarted.terminate() == 0)
        for suffix in ["", "-wal", "-shm", ".key"] { try? FileManager.default.removeItem(atPath: database + suffix) }
    }
}

/// Mixed data for imports: hashes, sets, strings with hash tags (13 tags, so 13 slots), and plain strings.
enum ImportData {
    enum Kind { case hash, set, tagged, string }

    static func kind(_ index: Int) -> Kind {
        switch index % 10 {
        case 0: .hash
        case 1: .set
        case 2, 5: .tagged
        default: .string
        }
    }

    static func key(_ index: Int) -> String {
        switch kind(index) {
        case .hash: "hash:\(index)"
        case .set: "set:\(index)"
        case .tagged: "{user\(index % 13)}:\(index)"
        case .string: "str:\(index)"
        }
    }

    static func writeCommand(_ index: Int) -> [String] {
        switch kind(index) {
        case .hash: ["HSET", key(index), "f1", "h\(index)", "f2", "x"]
        case .set: ["SADD", key(index), "m\(index)"]
        case .tagged: ["SET", key(index), "t\(index)"]
        case .string: ["SET", key(index), "v\(index)"]
        }
    }

    static func readCommand(_ index: Int) -> ([String], RESPValue) {
        switch kind(index) {
        case .hash: (["HGET", key(index), "f1"], .bulkString(Array("h\(index)".utf8)))
        case .set: (["SMEMBERS", key(index)], .array([.bulkString(Array("m\(index)".utf8))]))
        case .tagged: (["GET", key(index)], .bulkString(Array("t\(index)".utf8)))
        case .string: (["GET", key(index)], .bulkString(Array("v\(index)".utf8)))
        }
    }

    static func connect(_ address: String, password: String?) throws -> RedisConnection {
        try RedisConnection(endpoint: RedisEndpoint(address)!, credentials: password.map { RedisCredentials(password: $0) })
    }

    static func write(count: Int, to node: RedisNodeProcess) throws {
        let connection = try connect(node.address, password: node.password)
        defer { connection.close() }
        for batch in stride(from: 0, to: count, by: 2000) {
            let commands = (batch..<min(batch + 2000, count)).map { writeCommand($0).map { Array($0.utf8) } }
            for result in try connection.pipeline(commands) { _ = try result.get() }
        }
    }

    static func dbsize(_ node: RedisNodeProcess) throws -> Int {
        let connection = try connect(node.address, password: node.password)
        defer { connection.close() }
        return Int(try connection.command(["DBSIZE"]).int ?? -1)
    }

    /// Indexes whose key does not read back right through the cluster (routed by slot to its owner).
    static func mismatches(count: Int, seed: String) throws -> [Int] {
        let owners = try ClusterKeys.owners(seed: seed, credentials: nil)
        var byOwner: [String: [Int]] = [:]
        for index in 0..<count { byOwner[owners[HashSlot.slot(for: key(index))], default: []].append(index) }
        var wrong: [Int] = []
        for (owner, indexes) in byOwner {
            let connection = try connect(owner, password: nil)
            defer { connection.close() }
            for batch in stride(from: 0, to: indexes.count, by: 2000) {
                let slice = indexes[batch..<min(batch + 2000, indexes.count)]
                let results = try connection.pipeline(slice.map { readCommand($0).0.map { Array($0.utf8) } })
                for (index, result) in zip(slice, results) where (try? result.get()) != readCommand(index).1 {
                    wrong.append(index)
                }
            }
        }
        return wrong.sorted()
    }

    static func set(_ key: String, _ value: String, seed: String) throws {
        let owners = try ClusterKeys.owners(seed: seed, credentials: nil)
        let connection = try connect(owners[HashSlot.slot(for: key)], password: nil)
        defer { connection.close() }
        _ = try connection.command(["SET", key, value])
    }

    static func get(_ key: String, seed: String) throws -> String? {
        let owners = try ClusterKeys.owners(seed: seed, credentials: nil)
        let connection = try connect(owners[HashSlot.slot(for: key)], password: nil)
        defer { connection.close() }
        return try connection.command(["GET", key]).string
    }
}
