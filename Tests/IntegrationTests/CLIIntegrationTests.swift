import Foundation
import Glibc
import Testing

/// The CLI as a CI script and an operator use it: the real binary against the real service (with tokens) and a real
/// cluster, its output and its documented exit codes; and in tmux, the progress bar read off the screen.
@Suite(.serialized)
struct CLIIntegrationTests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs the CLI with `RCM_SERVER`/`RCM_TOKEN` set; both streams are read to the end.
    static func cli(_ arguments: [String], server: String, token: String?) throws -> Run {
        let process = Process()
        process.executableURL = ServiceProcess.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["RCM_SERVER"] = server
        environment["RCM_TOKEN"] = token ?? ""
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let errorData = ErrorReader(errors.fileHandleForReading)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self), errors: errorData.text())
    }

    /// Reads a pipe on its own thread so neither stream can fill up and stall the child.
    final class ErrorReader: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }

        func text() -> String {
            done.wait()
            return String(decoding: data, as: UTF8.self)
        }
    }

    @Test func scriptsGetOutputAndExitCodesForEveryOutcome() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 20_000, seed: cluster.nodes[0].address)
        let service = try SecuredService()
        defer { service.stop() }
        let server = service.url
        let admin = AccessIntegrationTests.adminToken
        let reader = AccessIntegrationTests.readToken
        func run(_ arguments: [String], token: String? = admin) throws -> Run { try Self.cli(arguments, server: server, token: token) }

        // 2: a 4xx (no token; too little role; bad field), and bad usage.
        let unauthorised = try run(["clusters"], token: nil)
        #expect(unauthorised.status == 2)
        #expect(unauthorised.errors.contains("401"))
        let forbidden = try run(["register", "c1", "--seed", cluster.nodes[0].address], token: reader)
        #expect(forbidden.status == 2)
        #expect(forbidden.errors.contains("403"))
        #expect(try run(["reshard"]).status == 2)
        #expect(try run(["reshard", "c1", "--to", "x", "--slot-ranges", "zero"]).status == 2)
        // 4: nothing listening.
        let unreachable = try Self.cli(["clusters"], server: "http://127.0.0.1:\(PortAllocator.redisPort())", token: admin)
        #expect(unreachable.status == 4)
        #expect(unreachable.errors.contains("cannot connect"))

        let registered = try run(["register", "c1", "--seed", cluster.nodes[0].address])
        #expect(registered.status == 0, "\(registered.errors)")
        let list = try run(["clusters"], token: reader)
        #expect(list.status == 0)
        #expect(list.output.contains("c1") && list.output.contains("alice"))
        let topology = try run(["topology", "c1"], token: reader)
        #expect(topology.status == 0)
        #expect(topology.output.contains("[OK] All 16384 slots covered."))
        #expect(topology.output.contains("M \(cluster.nodes[0].address)"))
        #expect(!topology.output.contains("\u{1B}["), "no colour when not on a terminal")
        let json = try run(["topology", "c1", "--json"], token: reader)
        #expect((try? JSONSerialization.jsonObject(with: Data(json.output.utf8))) is [String: Any])

        // 0: a job followed to success, as plain event lines.
        let added = try run(["add-node", "c1", "--address", cluster.nodes[3].address, "--wait"])
        #expect(added.status == 0, "\(added.output)\(added.errors)")
        #expect(added.output.contains("succeeded"))
        let dryRun = try run(["reshard", "c1", "--to", cluster.nodes[3].address, "--slots", "100", "--dry-run", "--json"])
        #expect(dryRun.status == 0)
        #expect(dryRun.output.contains("\"dry_run\" : true"))
        let reshard = try run(["reshard", "c1", "--to", cluster.nodes[3].address, "--slots", "300", "--wait"])
        #expect(reshard.status == 0, "\(reshard.output)\(reshard.errors)")
        #expect(reshard.output.range(of: #"info  started: move \d+ slots to"#, options: .regularExpression) != nil)
        #expect(reshard.output.range(of: #"reshard on c1: succeeded, (\d+)/\1 slots"#, options: .regularExpression) != nil)

        // The commands beyond moving slots: info, call (after --), restore.
        let info = try run(["info", "c1"], token: reader)
        #expect(info.status == 0)
        #expect(info.output.contains("[OK] 20000 keys in 4 masters."), "\(info.output)")
        let ping = try run(["call", "c1", "--nodes", "masters", "--wait", "--", "PING"])
        #expect(ping.status == 0, "\(ping.output)\(ping.errors)")
        let unsafe = try run(["call", "c1", "--", "FLUSHALL"])
        #expect(unsafe.status == 2)
        #expect(unsafe.errors.contains("unsafe_command"))
        let restoreDry = try run(["restore", "c1", "--snapshot", "1", "--dry-run"])
        #expect(restoreDry.status == 0, "\(restoreDry.errors)")
        // backup, then backups (the list, and one backup's files).
        for node in cluster.nodes { try node.cli(["CONFIG", "SET", "repl-diskless-sync-delay", "0"]) }
        let backup = try run(["backup", "c1", "--source", "master", "--wait"])
        #expect(backup.status == 0, "\(backup.output)\(backup.errors)")
        #expect(backup.output.range(of: #"backup on c1: succeeded, [\d.]+ (KB|MB) written"#, options: .regularExpression) != nil,
                "\(backup.output)")
        let backups = try run(["backups", "c1"], token: reader)
        #expect(backups.status == 0 && backups.output.contains("complete"), "\(backups.output)\(backups.errors)")
        let backupId = try #require(backups.output.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
        let shown = try run(["backups", "c1", backupId], token: reader)
        #expect(shown.status == 0 && shown.output.contains("shard-00-") && shown.output.contains("SHA-256"), "\(shown.output)\(shown.errors)")
        #expect(try run(["backups", "c1", "nope"], token: reader).status == 2)

        // 1: a job that fails when it starts (the slots it names were moved by the job queued before it).
        let slow = try run(["reshard", "c1", "--to", cluster.nodes[3].address, "--slot-ranges", "16000-16383",
                            "--max-keys-per-second", "200", "--json"])
        #expect(slow.status == 0)
        let failing = try run(["reshard", "c1", "--to", cluster.nodes[3].address, "--slot-ranges", "16100-16110", "--wait"])
        #expect(failing.status == 1, "\(failing.output)\(failing.errors)")
        #expect(failing.errors.contains("failed"))
        let failedId = try #require(failing.output.split(separator: " ").dropFirst().first.flatMap { Int($0) })
        #expect(try run(["job", "\(failedId)"], token: reader).status == 1)

        // 3: a followed job cancelled from elsewhere.
        let long = try run(["reshard", "c1", "--to", cluster.nodes[3].address, "--slot-ranges", "2000-4000",
                            "--max-keys-per-second", "500", "--json"])
        let longId = try #require((try JSONSerialization.jsonObject(with: Data(long.output.utf8)) as? [String: Any])?["id"] as? Int)
        let follower = Thread.detachedResult { try Self.cli(["job", "\(longId)", "--follow"], server: server, token: reader) }
        Thread.sleep(forTimeInterval: 1)
        let cancelled = try run(["cancel", "\(longId)"])
        #expect(cancelled.status == 0, "\(cancelled.errors)")
        let followed = try follower.get()
        #expect(followed.status == 3, "\(followed.output)\(followed.errors)")
        #expect(followed.output.contains("cancel requested by alice"))

        let jobs = try run(["jobs", "--cluster", "c1", "--status", "failed"], token: reader)
        #expect(jobs.status == 0)
        #expect(jobs.output.contains("\(failedId)") && jobs.output.contains("failed"))
        #expect(!jobs.output.contains("succeeded"))
        let help = try run(["reshard", "--help"])
        #expect(help.output.contains("Exit codes: 0 succeeded"))
        cluster.expectSettled(from: cluster.nodes[0])
    }

    /// A reviewed plan runs as reviewed: --dry-run prints the preflight checks and the topology etag with the command
    /// that applies exactly that plan; run with it, the job ends verified; with an etag the cluster no longer has,
    /// nothing is queued.
    @Test func aDryRunsEtagRunsThatPlanAndAStaleOneIsRefused() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 5_000, seed: cluster.nodes[0].address)
        let service = try SecuredService()
        defer { service.stop() }
        func run(_ arguments: [String]) throws -> Run {
            try Self.cli(arguments, server: service.url, token: AccessIntegrationTests.adminToken)
        }
        #expect(try run(["register", "c1", "--seed", cluster.nodes[0].address]).status == 0)
        let added = try run(["add-node", "c1", "--address", cluster.nodes[3].address, "--wait"])
        #expect(added.status == 0, "\(added.output)\(added.errors)")
        let target = cluster.nodes[3].address

        // A failing check refuses the submission: exit 2, and the check is printed with its action, not only named.
        _ = try cluster.nodes[3].cli(["CONFIG", "SET", "maxmemory", "1mb"])
        let full = try run(["reshard", "c1", "--to", target, "--slots", "200", "--wait"])
        _ = try cluster.nodes[3].cli(["CONFIG", "SET", "maxmemory", "0"])
        #expect(full.status == 2, "\(full.output)\(full.errors)")
        #expect(full.errors.contains("[preflight_failed]"))
        let failing = "(?m)^  FAIL  memory_headroom  \(target) would hold .* — raise maxmemory"
        #expect(full.errors.range(of: failing, options: .regularExpression) != nil, "\(full.errors)")
        #expect(!full.errors.contains("  ok  "), "only the checks that did not pass")

        let dryRun = try run(["reshard", "c1", "--to", target, "--slots", "200", "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.errors)")
        #expect(dryRun.output.contains("dry run of reshard on c1, nothing changed: "), "\(dryRun.output)")
        #expect(dryRun.output.contains("preflight:"))
        for name in ["health", "replication", "memory_headroom", "big_keys", "permissions", "time"] {
            #expect(dryRun.output.range(of: "(?m)^  (ok  |WARN|FAIL)  \(name) +\\S", options: .regularExpression) != nil,
                    "no preflight line for \(name):\n\(dryRun.output)")
        }
        #expect(dryRun.output.range(of: "(?m)^  ok    health ", options: .regularExpression) != nil)
        #expect(!dryRun.output.contains("\u{1B}["), "no colour when not on a terminal")
        let etagLine = try #require(dryRun.output.range(of: "(?m)^topology etag: [0-9a-f]+$", options: .regularExpression),
                                    "\(dryRun.output)")
        let etag = String(dryRun.output[etagLine].dropFirst("topology etag: ".count))
        let hint = try #require(dryRun.output.split(separator: "\n").last)
        #expect(hint.hasPrefix("to run exactly this plan: "), "\(dryRun.output)")
        #expect(hint.hasSuffix("reshard c1 --to \(target) --slots 200 --if-match \(etag)"), "\(hint)")
        #expect(!hint.contains("--dry-run"))

        let applied = try run(["reshard", "c1", "--to", target, "--slots", "200", "--if-match", etag, "--wait"])
        #expect(applied.status == 0, "\(applied.output)\(applied.errors)")
        #expect(applied.output.range(of: #"reshard on c1: succeeded, (\d+)/\1 slots"#, options: .regularExpression) != nil,
                "\(applied.output)")
        #expect(applied.output.contains("\nverification: passed\n"), "\(applied.output)")
        #expect(applied.output.range(of: "(?m)^  OK    owners_as_planned +\\S", options: .regularExpression) != nil, "\(applied.output)")

        // Stale: an etag the cluster never had, and the one the reshard just changed. Exit 2, nothing queued.
        func jobCount() throws -> Int {
            let list = try JSONSerialization.jsonObject(with: Data(try run(["jobs", "--cluster", "c1", "--json"]).output.utf8))
            return ((list as? [String: Any])?["items"] as? [Any])?.count ?? -1
        }
        let jobsBefore = try jobCount()
        for stale in ["0000", etag] {
            let refused = try run(["reshard", "c1", "--to", target, "--slots", "10", "--if-match", stale, "--wait"])
            #expect(refused.status == 2, "\(refused.output)\(refused.errors)")
            #expect(refused.errors.contains("412") && refused.errors.contains("topology_changed"), "\(refused.errors)")
            #expect(!refused.output.contains("queued"))
        }
        #expect(try jobCount() == jobsBefore, "a refused submission queued nothing")
        cluster.expectSettled(from: cluster.nodes[0])
    }

    /// On a pseudo-terminal (tmux), `--wait` draws a progress bar in keys (the job counted them), with slots, rate
    /// and ETA.
    @Test func theProgressBarShowsOnATerminal() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 30_000, seed: cluster.nodes[0].address)
        let database = AccessIntegrationTests.databasePath()
        defer { AccessIntegrationTests.removeDatabase(database) }
        let service = try ServiceProcess(databasePath: database)
        defer { service.kill9() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"tty","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        try client.runJob("tty", "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)

        let session = "rcm-\(UUID().uuidString.prefix(8))"
        let command = "RCM_SERVER=http://127.0.0.1:\(service.port) \(ServiceProcess.binary.path) reshard tty "
            + "--to \(cluster.nodes[3].address) --slots 4096 --max-keys-per-second 2000 --wait; echo EXIT=$?; sleep 60"
        // The tmux server outlives the call and keeps every descriptor it inherits, including the one Process watches
        // to see its child exit; Python's subprocess closes them all before starting it.
        let start = Process()
        start.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        start.arguments = ["python3", "-c", "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:], close_fds=True).returncode)",
                           "/usr/bin/tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40", command]
        start.standardOutput = FileHandle.nullDevice
        start.standardError = FileHandle.nullDevice
        try start.run()
        start.waitUntilExit()
        #expect(start.terminationStatus == 0)
        defer { _ = try? RedisNodeProcess.run("/usr/bin/tmux", ["kill-session", "-t", session]) }
        var screens: [String] = []
        var sawBar = false
        var sawRate = false
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let screen = try RedisNodeProcess.run("/usr/bin/tmux", ["capture-pane", "-p", "-t", session])
            screens.append(screen)
            if screen.range(of: #"\[#*-*\] · [\d ]+/[\d ]+ keys · \d+/4096 slots"#, options: .regularExpression) != nil { sawBar = true }
            if screen.range(of: #"keys/s · ETA \d+:\d\d"#, options: .regularExpression) != nil { sawRate = true }
            if screen.contains("EXIT=") { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let last = screens.last ?? ""
        #expect(last.contains("EXIT=0"), "\(last)")
        #expect(sawBar, "no progress bar on screen; last screen:\n\(last)")
        #expect(sawRate, "no rate and ETA on screen; last screen:\n\(last)")
        #expect(last.contains("4096/4096 slots"))
    }
}

extension Thread {
    /// Runs `body` on its own thread; `get()` waits for its result.
    static func detachedResult<T>(_ body: @escaping @Sendable () throws -> T) -> DetachedResult<T> {
        let result = DetachedResult<T>()
        Thread.detachNewThread { result.set(Result { try body() }) }
        return result
    }
}

final class DetachedResult<T>: @unchecked Sendable {
    private var value: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    func set(_ value: Result<T, any Error>) {
        self.value = value
        done.signal()
    }

    func get() throws -> T {
        done.wait()
        return try value!.get()
    }
}
