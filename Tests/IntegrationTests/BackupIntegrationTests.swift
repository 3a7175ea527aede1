import Foundation
import Jobs
import Testing

/// `backup`, as `redis-cli --cluster backup`: one RDB per shard over the replication protocol, a manifest, the way
/// back through `import`, clusters behind a password, an ACL user and TLS, the throttle, cancel, kill -9 and resume,
/// a full disk, and retention.
@Suite(.serialized)
struct BackupIntegrationTests {
    static let keyCount = 20_000

    static func dryPlanSummary(_ plan: [String: Any]) -> String { plan["summary"] as? String ?? "" }

    /// Redis's diskless delay (5 s by default) made 0 on every node, for the tests that are not about it.
    static func noSyncDelay(_ cluster: TestCluster) throws {
        for node in cluster.nodes where node.isRunning { try node.cli(["CONFIG", "SET", "repl-diskless-sync-delay", "0"]) }
    }

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? NSNumber)?.intValue ?? -1
    }

    /// The backup's manifest files, each checked against its bytes on disk: size, SHA-256 (sha256sum), mode 0600,
    /// and `redis-check-rdb` when the file is Redis's (REDIS00xx; Valkey's own format needs Valkey's checker).
    static func checkFiles(_ backup: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        let directory = backup["directory"] as? String ?? ""
        let manifest = backup["manifest"] as? [String: Any] ?? [:]
        let files = manifest["files"] as? [[String: Any]] ?? []
        #expect(mode(directory) == 0o700, "folder mode \(String(mode(directory), radix: 8))", sourceLocation: sourceLocation)
        var paths: [String] = []
        for file in files {
            let path = directory + "/" + (file["name"] as? String ?? "")
            paths.append(path)
            let sum = try RedisNodeProcess.run("/usr/bin/sha256sum", [path]).split(separator: " ").first.map(String.init)
            #expect(sum == file["sha256"] as? String, "\(path): sha256sum \(sum ?? "?"), manifest \(file["sha256"] ?? "?")", sourceLocation: sourceLocation)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.int64Value
            #expect(size == (file["size"] as? Int).map(Int64.init), "\(path) size", sourceLocation: sourceLocation)
            #expect(mode(path) == 0o600, "\(path) mode \(String(mode(path), radix: 8))", sourceLocation: sourceLocation)
            if (file["header"] as? String ?? "").hasPrefix("REDIS") {
                let check = try RedisNodeProcess.run("/usr/bin/redis-check-rdb", [path])
                #expect(check.contains("RDB looks OK"), "redis-check-rdb \(path):\n\(check)", sourceLocation: sourceLocation)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/manifest.json.partial"), sourceLocation: sourceLocation)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).allSatisfy { !$0.hasSuffix(".partial") },
                sourceLocation: sourceLocation)
        return paths
    }

    /// The way back: a standalone redis-server started on each RDB file, its keys moved into `target` by `import`.
    static func restore(_ files: [String], into target: String, client: HTTPTestClient) throws {
        for file in files {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-restore-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: file, toPath: directory.appendingPathComponent("dump.rdb").path)
            let source = RedisNodeProcess(port: PortAllocator.redisPort(), directory: directory, password: nil, clusterEnabled: false,
                                          extraArguments: ["--dbfilename", "dump.rdb"])
            try source.start()
            defer { source.kill(); try? FileManager.default.removeItem(at: directory) }
            try client.runJob(target, "import", #"{"from":"\#(source.address)"}"#)
            #expect(try source.cli(["DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    /// A 3/3 cluster with keys, backed up with Redis's default settings, from a replica in sync of each shard, the
    /// three at once, each saved on the replica's disk and sent with its length (so progress knows the total); listed and shown; every file checked; then every key
    /// restored into a new, empty cluster through import and read back with its value.
    @Test func backupOfEveryShardAndTheWayBackThroughImport() throws {
        let cluster = try TestCluster(nodes: 9)
        defer { cluster.stop() }
        try cluster.create(count: 6, replicas: 1)
        try ClusterKeys.write(count: Self.keyCount, seed: cluster.nodes[0].address)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"src","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)

        // The replicas' first sync waits out the diskless delay: the dry run picks each shard's replica once in sync.
        var plan: [String: Any] = [:]
        var shards: [[String: Any]] = []
        let synced = Date().addingTimeInterval(30)
        repeat {
            let dry = try client.post("/clusters/src/backup", #"{"dry_run":true}"#)
            #expect(dry.status == 200, "\(dry.text)")
            plan = dry.object["plan"] as? [String: Any] ?? [:]
            shards = plan["shards"] as? [[String: Any]] ?? []
            if shards.allSatisfy({ $0["source_role"] as? String == "replica" }) { break }
            Thread.sleep(forTimeInterval: 0.5)
        } while Date() < synced
        #expect(shards.count == 3 && shards.allSatisfy { $0["source_role"] as? String == "replica" }, "\(shards)")
        #expect((plan["preflight"] as? [[String: Any]] ?? []).contains { $0["name"] as? String == "disk_space" && $0["status"] as? String == "ok" })

        let job = try client.runJob("src", "backup", "{}")
        let progress = job["progress"] as? [String: Any] ?? [:]
        let result = job["result"] as? [String: Any] ?? [:]
        let id = result["id"] as? String ?? ""
        #expect(result["status"] as? String == "complete" && result["files"] as? Int == 3, "\(result)")
        #expect((progress["bytes_done"] as? Int ?? 0) == result["bytes"] as? Int, "\(progress) \(result)")
        #expect((progress["bytes_total"] as? Int ?? 0) == result["bytes"] as? Int, "\(progress) \(result)")
        #expect(Self.dryPlanSummary(plan).contains("3 at a time"), "\(plan["summary"] ?? "")")

        let list = try client.get("/clusters/src/backups").object["items"] as? [[String: Any]] ?? []
        #expect(list.count == 1 && list.first?["id"] as? String == id && list.first?["status"] as? String == "complete", "\(list)")
        let backup = try client.get("/clusters/src/backups/\(id)").object
        let manifest = backup["manifest"] as? [String: Any] ?? [:]
        #expect((manifest["nodes"] as? [Any])?.count == 6, "the layout names every node")
        let slots = (manifest["files"] as? [[String: Any]] ?? []).flatMap { $0["slots"] as? [[Int]] ?? [] }
        #expect(slots.reduce(0) { $0 + $1[1] - $1[0] + 1 } == 16384, "the files cover \(slots)")
        let files = try Self.checkFiles(backup)
        #expect(files.count == 3)
        #expect(try client.get("/clusters/src/backups/nope").status == 404)
        #expect(try client.get("/clusters/nobody/backups").status == 404)

        // The way back, into a new empty cluster.
        let target = Array(cluster.nodes[6..<9])
        let seeds = target.map { "\"\($0.address)\"" }.joined(separator: ",")
        #expect(try client.post("/clusters", #"{"id":"back","seeds":[\#(seeds)]}"#).status == 201)
        try client.runJob("back", "create", #"{"replicas":0}"#)
        try Self.restore(files, into: "back", client: client)
        #expect(try ClusterKeys.verify(count: Self.keyCount, seed: target[0].address) == Self.keyCount)
    }

    /// Nodes that need a password, and an ACL user: without SYNC the preflight refuses (422, naming SYNC) before
    /// anything is written; with it the backup completes.
    @Test func passwordAndACLUserClusters() throws {
        let cluster = try TestCluster(nodes: 3, password: "s3cret")
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        try Self.noSyncDelay(cluster)
        try ClusterKeys.write(count: 3000, seed: cluster.nodes[0].address, credentials: .init(username: nil, password: "s3cret"))
        for node in cluster.nodes {
            try node.cli(["ACL", "SETUSER", "ops", "on", ">opspw", "~*", "&*", "+@all", "-sync", "-psync"])
        }
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"pw","seeds":["\#(cluster.nodes[0].address)"],"password":"s3cret"}"#).status == 201)
        let job = try client.runJob("pw", "backup", #"{"source":"master"}"#)
        #expect((job["result"] as? [String: Any])?["files"] as? Int == 3)

        #expect(try client.post("/clusters", #"{"id":"acl","seeds":["\#(cluster.nodes[0].address)"],"username":"ops","password":"opspw"}"#).status == 201)
        let refused = try client.post("/clusters/acl/backup", "{}")
        #expect(refused.status == 422 && refused.object["code"] as? String == "preflight_failed", "\(refused.text)")
        #expect(refused.text.contains("SYNC"), "\(refused.text)")
        for node in cluster.nodes { try node.cli(["ACL", "SETUSER", "ops", "+sync"]) }
        let allowed = try client.runJob("acl", "backup", "{}")
        let id = (allowed["result"] as? [String: Any])?["id"] as? String ?? ""
        _ = try Self.checkFiles(try client.get("/clusters/acl/backups/\(id)").object)
    }

    /// A TLS-only cluster (client certificates required) is backed up over TLS.
    @Test func tlsCluster() throws {
        let certificates = try TestCertificates()
        let cluster = try TestCluster(nodes: 3, tls: certificates, authClients: "yes")
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        try Self.noSyncDelay(cluster)
        let service = try TestService()
        defer { service.stop() }
        let client = service.client
        let registered = try client.post("/clusters", #"{"id":"tls","seeds":["\#(cluster.nodes[0].address)"],"tls":\#(TLSIntegrationTests.tlsJSON(certificates))}"#)
        #expect(registered.status == 201, "\(registered.text)")
        for node in cluster.nodes { try node.cli(["SET", "k\(node.port)", "v"]) }
        let job = try client.runJob("tls", "backup", "{}")
        let id = (job["result"] as? [String: Any])?["id"] as? String ?? ""
        let files = try Self.checkFiles(try client.get("/clusters/tls/backups/\(id)").object)
        #expect(files.count == 3)
    }

    /// Under a throttle, one shard at a time, the service killed (-9) while the second file is being written: after a restart the job
    /// resumes, keeps the first file (checked against its recorded SHA-256) and fetches the second again. Then a
    /// throttled backup cancelled mid-file leaves no partial file, and the listing calls it cancelled.
    @Test func throttleKillAndResumeThenCancel() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        try Self.noSyncDelay(cluster)
        try ClusterKeys.write(count: 60_000, seed: cluster.nodes[0].address)
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-backup-\(UUID().uuidString).sqlite").path
        let backupDir = database + ".backups"
        defer { try? FileManager.default.removeItem(atPath: backupDir); AccessIntegrationTests.removeDatabase(database) }
        var service: ServiceProcess? = try ServiceProcess(databasePath: database, arguments: ["--backup-dir", backupDir])
        var client = service!.client
        #expect(try client.post("/clusters", #"{"id":"slow","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        // About 0.5 MB per file at 200 KB/s: each file takes a few seconds. Diskless, the nodes' default.
        let job = try client.submit("slow", "backup", #"{"source":"master","max_bytes_per_second":200000,"parallel":1,"transfer":"diskless"}"#)
        var step = ""
        var bytes: [Int] = []
        for _ in 0..<600 where !step.contains("(2/3)") {
            let progress = (try client.get("/jobs/\(job)").object["progress"] as? [String: Any]) ?? [:]
            step = progress["step"] as? String ?? ""
            if let done = progress["bytes_done"] as? Int { bytes.append(done) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(step.contains("(2/3)"), "the second file never started: \(step)")
        Thread.sleep(forTimeInterval: 0.5)
        service!.kill9()
        service = nil
        #expect(Set(bytes).count >= 3 && zip(bytes, bytes.dropFirst()).allSatisfy { $0 <= $1 }, "bytes_done: \(bytes)")

        service = try ServiceProcess(databasePath: database, arguments: ["--backup-dir", backupDir])
        client = service!.client
        let finished = try client.waitForJob(job, timeout: 120)
        #expect(finished["status"] as? String == "succeeded", "\(finished["error"] ?? "")")
        let events = try client.get("/jobs/\(job)/events").text
        #expect(events.contains("1 of 3 files were finished"), "\(events)")
        let id = (finished["result"] as? [String: Any])?["id"] as? String ?? ""
        #expect(try Self.checkFiles(try client.get("/clusters/slow/backups/\(id)").object).count == 3)

        let cancelled = try client.submit("slow", "backup", #"{"source":"master","max_bytes_per_second":100000}"#)
        for _ in 0..<400 {
            let progress = (try client.get("/jobs/\(cancelled)").object["progress"] as? [String: Any]) ?? [:]
            if (progress["bytes_done"] as? Int ?? 0) > 100_000 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(try client.post("/jobs/\(cancelled)/cancel", "").status == 202)
        let ended = try client.waitForJob(cancelled, timeout: 60)
        #expect(ended["status"] as? String == "cancelled", "\(ended["status"] ?? "") \(ended["error"] ?? "")")
        let list = try client.get("/clusters/slow/backups").object["items"] as? [[String: Any]] ?? []
        let stopped = list.first { $0["job_id"] as? Int == cancelled }
        #expect(stopped?["status"] as? String == "cancelled", "\(list)")
        let folder = stopped?["directory"] as? String ?? ""
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        #expect(left.allSatisfy { !$0.hasSuffix(".partial") } && !left.contains("manifest.json"), "\(left)")
        #expect(service!.terminate() == 0)
    }

    /// A backup directory on a 256 KB filesystem: the job fails saying the disk is full, and no file is left that
    /// looks whole (no manifest, no partial file). Skipped only where tmpfs cannot be mounted.
    @Test func fullDiskFailsClearly() throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint.path]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            print("fullDiskFailsClearly: tmpfs cannot be mounted here; skipped")
            return
        }
        defer { _ = try? RedisNodeProcess.run("/bin/umount", [mountPoint.path]) }
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        try Self.noSyncDelay(cluster)
        try ClusterKeys.write(count: 60_000, seed: cluster.nodes[0].address)
        let service = try TestService(backupRoot: mountPoint)
        defer { service.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"full","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        let job = try client.waitForJob(try client.submit("full", "backup", "{}"))
        #expect(job["status"] as? String == "failed")
        let message = (job["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("disk full"), "\(message)")
        let list = try client.get("/clusters/full/backups").object["items"] as? [[String: Any]] ?? []
        #expect(list.first?["status"] as? String == "failed", "\(list)")
        let folder = list.first?["directory"] as? String ?? ""
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        #expect(left.allSatisfy { !$0.hasSuffix(".partial") } && !left.contains("manifest.json"), "\(left)")
    }

    /// Retention: backups started before the cutoff are removed, complete or not, except one whose job still runs.
    @Test func retentionRemovesOldBackupsButNotARunningOne() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-retention-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let backups = BackupDirectory(root: root)
        let old = Date().addingTimeInterval(-40 * 86_400)
        let ids = [(BackupDirectory.backupId(startedAt: old, jobId: 1), "a"), (BackupDirectory.backupId(startedAt: old, jobId: 2), "a"),
                   (BackupDirectory.backupId(startedAt: Date(), jobId: 3), "b")]
        for (id, cluster) in ids {
            guard let folder = backups.folder(clusterId: cluster, backupId: id) else { throw TestFailure("no folder for \(id)") }
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: folder.appendingPathComponent("shard-00-x.rdb").path, contents: Data("REDIS0010".utf8))
        }
        #expect(backups.list(clusterId: "a").count == 2)
        let removed = backups.prune(startedBefore: Date().addingTimeInterval(-30 * 86_400)) { $0 == 2 }
        #expect(removed == ["a/\(ids[0].0)"])
        #expect(backups.list(clusterId: "a").map(\.id) == [ids[1].0])
        #expect(backups.list(clusterId: "b").count == 1)
        #expect(backups.folder(clusterId: "..", backupId: "x") == nil && backups.folder(clusterId: "a", backupId: "../b") == nil)
    }
}
