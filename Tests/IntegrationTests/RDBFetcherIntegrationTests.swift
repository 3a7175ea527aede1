import ClusterOps
import Foundation
import Glibc
import RESP
import Testing

/// `RDBFetcher` against real servers (Redis 7, Valkey 9, Redis 8 when installed) and a scripted replication source:
/// each fetched file passes the server's own `check-rdb`, loads into a fresh server of the same kind with every key,
/// has mode 0600 and the SHA-256 `sha256sum` computes; diskless and disk-based payloads, passwords, ACL users, TLS,
/// throttling, cancellation, a full disk, and payloads that are cut short, stall, or are not RDB files, each of
/// which leaves neither the file nor its `.partial`.
@Suite(.serialized)
struct RDBFetcherIntegrationTests {
    static let keyCount = 20_000

    @Test func redis7DisklessAndDiskSnapshots() throws {
        try Self.fetchesDisklessAndDiskSnapshots(.redis)
    }

    @Test func valkey9DisklessAndDiskSnapshots() throws {
        try Self.fetchesDisklessAndDiskSnapshots(.valkey)
    }

    @Test func redis8DisklessAndDiskSnapshots() throws {
        try Self.fetchesDisklessAndDiskSnapshots(.redis8)
    }

    /// A cluster-enabled node owning every slot, ~20 000 keys of every type (and, where the server has them, a hash
    /// with a field TTL, which only the server's native RDB version holds): fetched with the defaults (diskless, after
    /// the 5 s `repl-diskless-sync-delay` with keep-alive newlines), then disk-based.
    static func fetchesDisklessAndDiskSnapshots(_ kind: ServerKind) throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let node = RedisNodeProcess(port: PortAllocator.redisPort(), directory: scratch.url("node"), password: nil, server: kind)
        try node.start()
        defer { node.kill() }
        try RDBKeys.ownAllSlots(node)
        let keys = try RDBKeys.write(to: node, count: keyCount, fieldTTL: kind != .redis)
        #expect(try node.cli(["CONFIG", "GET", "repl-diskless-sync"]).contains("yes"))

        // Diskless, server defaults. A stale world-readable partial file from a crash is replaced, not reused.
        let diskless = scratch.url("diskless.rdb")
        #expect(FileManager.default.createFile(atPath: diskless.path + ".partial", contents: Data("stale".utf8),
                                               attributes: [.posixPermissions: 0o644]))
        var reports: [(Int64, Int64?)] = []
        let started = Date()
        let observer = RecordingObserver()
        let streamed = try RDBFetcher(endpoint: RedisEndpoint(host: "127.0.0.1", port: node.port), observer: observer)
            .fetch(to: diskless, progress: { reports.append(($0, $1)) })
        print("\(kind): diskless RDB of \(streamed.size) bytes (\(streamed.header)) in "
              + String(format: "%.1f s", Date().timeIntervalSince(started)))
        #expect(observer.events.contains { $0.contains("diskless") }, "\(observer.events)")
        #expect(observer.events.contains { $0.contains("rdb-only") && !$0.contains("does not know") }, "\(observer.events)")
        // Reported while the node waited out its diskless delay, then once at the end with the size.
        #expect(reports.count >= 3, "\(reports)")
        #expect(reports.last.map { $0.0 == streamed.size && $0.1 == streamed.size } == true, "\(reports)")
        try RDBChecks.verify(streamed, at: diskless, kind: kind, keys: keys, scratch: scratch)

        // Asked for a disk transfer (no `capa eof`) while the node keeps repl-diskless-sync yes: saved and sent at
        // once, with its length, in the same format.
        var asked = RDBFetcher(endpoint: RedisEndpoint(host: "127.0.0.1", port: node.port), observer: observer)
        asked.diskless = false
        let onDisk = try asked.fetch(to: scratch.url("asked-disk.rdb"))
        #expect(observer.events.contains { $0.contains("from disk") }, "\(observer.events)")
        #expect(onDisk.header == streamed.header)
        try RDBChecks.verify(onDisk, at: scratch.url("asked-disk.rdb"), kind: kind, keys: keys, scratch: scratch)

        // Disk-based: `$<length>`, and progress knows the total.
        try node.cli(["CONFIG", "SET", "repl-diskless-sync", "no"])
        let disk = scratch.url("disk.rdb")
        reports = []
        let diskObserver = RecordingObserver()
        let saved = try RDBFetcher(endpoint: RedisEndpoint(host: "127.0.0.1", port: node.port), observer: diskObserver)
            .fetch(to: disk, progress: { reports.append(($0, $1)) })
        #expect(diskObserver.events.contains { $0.contains("from disk") }, "\(diskObserver.events)")
        #expect(reports.last.map { $0.0 == saved.size && $0.1 == saved.size } == true, "\(reports)")
        #expect(saved.header == streamed.header)
        try RDBChecks.verify(saved, at: disk, kind: kind, keys: keys, scratch: scratch)
    }

    /// requirepass, an ACL user allowed only SYNC and REPLCONF, a wrong password and a user without SYNC.
    @Test func passwordAndACLUsers() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let password = "rdb-s3cret"
        let node = RedisNodeProcess(port: PortAllocator.redisPort(), directory: scratch.url("node"), password: password,
                                    clusterEnabled: false)
        try node.start()
        defer { node.kill() }
        try node.cli(["CONFIG", "SET", "repl-diskless-sync-delay", "0"])
        let keys = try RDBKeys.write(to: node, count: 2000, fieldTTL: false)
        let endpoint = RedisEndpoint(host: "127.0.0.1", port: node.port)

        let withPassword = scratch.url("password.rdb")
        let info = try RDBFetcher(endpoint: endpoint, credentials: RedisCredentials(password: password)).fetch(to: withPassword)
        try RDBChecks.verify(info, at: withPassword, kind: .redis, keys: keys, scratch: scratch)

        try node.cli(["ACL", "SETUSER", "backup", "on", ">backup-pw", "-@all", "+sync", "+replconf"])
        let withUser = scratch.url("acl.rdb")
        let userInfo = try RDBFetcher(endpoint: endpoint, credentials: RedisCredentials(username: "backup", password: "backup-pw"))
            .fetch(to: withUser)
        try RDBChecks.verify(userInfo, at: withUser, kind: .redis, keys: keys, scratch: scratch)

        let refused = scratch.url("refused.rdb")
        let wrong = RDBFetcher(endpoint: endpoint, credentials: RedisCredentials(password: "nope"))
        let wrongError = #expect(throws: ClusterOpsError.self) { try wrong.fetch(to: refused) }
        #expect(wrongError?.code == "authentication_failed", "\(String(describing: wrongError))")

        try node.cli(["ACL", "SETUSER", "reader", "on", ">reader-pw", "+@read", "~*"])
        let reader = RDBFetcher(endpoint: endpoint, credentials: RedisCredentials(username: "reader", password: "reader-pw"))
        let readerError = #expect(throws: ClusterOpsError.self) { try reader.fetch(to: refused) }
        #expect(readerError?.description.contains("NOPERM") == true, "\(String(describing: readerError))")
        try RDBChecks.expectNothing(at: refused)
    }

    /// A node that speaks TLS only: the fetch goes through the connection's TLS session like any command.
    @Test func fetchesOverTLS() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let certificates = try TestCertificates()
        let node = RedisNodeProcess(port: PortAllocator.redisPort(), directory: scratch.url("node"), password: nil,
                                    tls: certificates, clusterEnabled: false)
        try node.start()
        defer { node.kill() }
        try node.cli(["CONFIG", "SET", "repl-diskless-sync-delay", "0"])
        let keys = try RDBKeys.write(to: node, count: 5000, fieldTTL: false, tls: certificates.client)
        let destination = scratch.url("tls.rdb")
        let info = try RDBFetcher(endpoint: RedisEndpoint(host: "127.0.0.1", port: node.port), tls: certificates.client)
            .fetch(to: destination)
        try RDBChecks.verify(info, at: destination, kind: .redis, keys: keys, scratch: scratch)
    }

    /// 200 KB/s over a ~1 MB RDB: progress comes several times, never goes back, and ends at the file's size.
    @Test func throttledFetchReportsProgress() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let node = try RDBKeys.standalone(in: scratch)
        defer { node.kill() }
        let keys = try RDBKeys.write(to: node, count: Self.keyCount, fieldTTL: false)
        let destination = scratch.url("throttled.rdb")
        var reports: [(Int64, Int64?)] = []
        let started = Date()
        let info = try RDBFetcher(endpoint: RedisEndpoint(host: "127.0.0.1", port: node.port))
            .fetch(to: destination, bytesPerSecond: 200_000, progress: { reports.append(($0, $1)) })
        print("throttled at 200 KB/s: \(info.size) bytes in " + String(format: "%.1f s", Date().timeIntervalSince(started))
              + ", \(reports.count) progress reports")
        #expect(info.size > 500_000, "the RDB is too small to show pacing: \(info.size) bytes")
        let payloadReports = reports.filter { $0.0 > 0 }
        #expect(payloadReports.count >= 3, "\(reports)")
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.0 <= $1.0 }, "\(reports)")
        #expect(reports.last.map { $0.0 == info.size } == true, "\(reports)")
        try RDBChecks.verify(info, at: destination, kind: .redis, keys: keys, scratch: scratch)
    }

    /// Cancelled once some bytes are written: the error says so, and neither the file nor the partial one remains.
    @Test func cancellationLeavesNoFile() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let node = try RDBKeys.standalone(in: scratch)
        defer { node.kill() }
        _ = try RDBKeys.write(to: node, count: Self.keyCount, fieldTTL: false)
        let destination = scratch.url("cancelled.rdb")
        var written: Int64 = 0
        let fetcher = RDBFetcher(endpoint: RedisEndpoint(host: "127.0.0.1", port: node.port))
        let error = #expect(throws: ClusterOpsError.self) {
            try fetcher.fetch(to: destination, bytesPerSecond: 100_000, isCancelled: { written > 0 },
                              progress: { bytes, _ in written = bytes })
        }
        #expect(error?.description.contains("cancelled") == true, "\(String(describing: error))")
        #expect(error?.description.contains(".partial was removed") == true, "\(String(describing: error))")
        try RDBChecks.expectNothing(at: destination)
        #expect(try node.cli(["PING"]).contains("PONG"))
    }

    /// A 256 KB tmpfs and a larger RDB: "disk full", how much was written of how much, and no file left behind.
    @Test func fullDiskLeavesNoFile() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let tiny = scratch.url("tiny")
        try FileManager.default.createDirectory(at: tiny, withIntermediateDirectories: true)
        let mount = try RDBTool.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", tiny.path])
        guard mount.status == 0 else {
            try Test.cancel("cannot mount a 256 KB tmpfs (needs root): \(mount.output)")
        }
        defer { _ = try? RDBTool.run("/usr/bin/umount", [tiny.path]) }
        let node = try RDBKeys.standalone(in: scratch)
        defer { node.kill() }
        _ = try RDBKeys.write(to: node, count: Self.keyCount, fieldTTL: false)
        try node.cli(["CONFIG", "SET", "repl-diskless-sync", "no"])
        let destination = tiny.appendingPathComponent("full.rdb")
        let fetcher = RDBFetcher(endpoint: RedisEndpoint(host: "127.0.0.1", port: node.port))
        let error = #expect(throws: ClusterOpsError.self) { try fetcher.fetch(to: destination) }
        let text = error?.description ?? ""
        #expect(text.contains("disk full writing \(destination.path)"), "\(text)")
        #expect(text.contains(" of "), "the total of a disk-based payload is known: \(text)")
        try RDBChecks.expectNothing(at: destination)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tiny.path).isEmpty)
    }

    // MARK: A scripted replication source

    /// The diskless framing with the payload arriving in pieces of 1 to 61 bytes, so the end mark is split across
    /// reads: the file is exactly the payload, found complete by the mark alone (the source never closes).
    @Test func eofMarkSplitAcrossReads() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let payload = Array("REDIS0011".utf8) + RDBKeys.bytes(count: 5000, seed: 7)
        let mark = Array(String(repeating: "0123456789", count: 4).utf8)
        let stream = Array("\n\n$EOF:".utf8) + mark + Array("\r\n".utf8) + payload + mark
        var pieces: [[UInt8]] = []
        var offset = 0
        var size = 1
        while offset < stream.count {
            pieces.append(Array(stream[offset..<min(stream.count, offset + size)]))
            offset += size
            size = size % 61 + 7
        }
        let source = try FakeReplicationSource(pieces: pieces, pause: 0.001, ending: .hang)
        defer { source.stop() }
        let destination = scratch.url("split.rdb")
        let info = try RDBFetcher(endpoint: source.endpoint).fetch(to: destination)
        #expect(try Data(contentsOf: destination) == Data(payload))
        #expect(info.size == Int64(payload.count))
        #expect(info.sha256 == (try RDBChecks.sha256sum(destination)))
        #expect(info.header == "REDIS0011")
    }

    /// The disk-based framing followed by more bytes (an older server's replication stream): the file ends at the
    /// announced length.
    @Test func sizedPayloadEndsAtItsLength() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let payload = Array("VALKEY080".utf8) + RDBKeys.bytes(count: 3000, seed: 3)
        let reply = Array("\n$\(payload.count)\r\n".utf8) + payload + Array("*1\r\n$4\r\nPING\r\n".utf8)
        let source = try FakeReplicationSource(pieces: [reply], ending: .hang)
        defer { source.stop() }
        let destination = scratch.url("sized.rdb")
        let info = try RDBFetcher(endpoint: source.endpoint).fetch(to: destination)
        #expect(try Data(contentsOf: destination) == Data(payload))
        #expect(info.header == "VALKEY080")
    }

    @Test func rejectsAPayloadThatIsNotAnRDB() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let source = try FakeReplicationSource(pieces: [Array("\n\n$16\r\nHELLO, NOT AN RDB".utf8)], ending: .hang)
        defer { source.stop() }
        let destination = scratch.url("bogus.rdb")
        let fetcher = RDBFetcher(endpoint: source.endpoint)
        let error = #expect(throws: ClusterOpsError.self) { try fetcher.fetch(to: destination) }
        #expect(error?.description.contains("not an RDB file") == true, "\(String(describing: error))")
        try RDBChecks.expectNothing(at: destination)
    }

    /// The source closes (FIN) or resets (RST) the connection part way: "cut short", how far it got, nothing kept.
    @Test(arguments: [FakeReplicationSource.Ending.close, .reset])
    func streamCutShortLeavesNoFile(ending: FakeReplicationSource.Ending) throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        let reply = Array("$100000\r\nREDIS0011".utf8) + RDBKeys.bytes(count: 20_000, seed: 5)
        let source = try FakeReplicationSource(pieces: [reply], ending: ending)
        defer { source.stop() }
        let destination = scratch.url("cut.rdb")
        let fetcher = RDBFetcher(endpoint: source.endpoint)
        let error = #expect(throws: ClusterOpsError.self) { try fetcher.fetch(to: destination) }
        let text = error?.description ?? ""
        #expect(text.contains("cut short") && text.contains("of 100 KB"), "\(text)")
        try RDBChecks.expectNothing(at: destination)
    }

    /// A source that goes silent, before the payload and in the middle of it, is given up on after `stallTimeout`.
    @Test func silentSourceIsGivenUpOn() throws {
        let scratch = try RDBScratch()
        defer { scratch.remove() }
        for (pieces, expected) in [([Array("\n".utf8)], "not even a keep-alive"),
                                   ([Array("$1000\r\nREDIS0011".utf8)], "in the middle of the RDB")] {
            let source = try FakeReplicationSource(pieces: pieces, ending: .hang)
            defer { source.stop() }
            let destination = scratch.url("silent.rdb")
            var fetcher = RDBFetcher(endpoint: source.endpoint)
            fetcher.stallTimeout = 1
            let error = #expect(throws: ClusterOpsError.self) { try fetcher.fetch(to: destination) }
            #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
            try RDBChecks.expectNothing(at: destination)
        }
    }
}

/// A temp directory for one test's nodes and files.
struct RDBScratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-rdb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// The data the snapshots carry: keys of every type with values that do not compress away.
enum RDBKeys {
    /// A standalone Redis 7 that streams at once (no diskless delay), for the tests that are not about the delay.
    static func standalone(in scratch: RDBScratch) throws -> RedisNodeProcess {
        let node = RedisNodeProcess(port: PortAllocator.redisPort(), directory: scratch.url("node"), password: nil,
                                    clusterEnabled: false)
        try node.start()
        try node.cli(["CONFIG", "SET", "repl-diskless-sync-delay", "0"])
        return node
    }

    /// Gives a lone cluster node every slot, so it takes writes, and waits for cluster_state:ok.
    static func ownAllSlots(_ node: RedisNodeProcess) throws {
        try node.cli(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
        for _ in 0..<100 {
            if try node.cli(["CLUSTER", "INFO"]).contains("cluster_state:ok") { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestFailure("\(node.address) did not reach cluster_state:ok with every slot")
    }

    /// Writes `count` keys: 60% strings (some with a TTL), then hashes, lists, sets and sorted sets; with
    /// `fieldTTL`, one more hash with a field TTL. Returns the number of keys written.
    static func write(to node: RedisNodeProcess, count: Int, fieldTTL: Bool, tls: TLSConfiguration? = nil) throws -> Int {
        let connection = try RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: node.port),
                                             credentials: node.password.map { RedisCredentials(password: $0) }, tls: tls,
                                             readTimeout: 30)
        defer { connection.close() }
        var batch: [[String]] = []
        func flush() throws {
            let results = try connection.pipeline(batch.map { $0.map { Array($0.utf8) } })
            for case .failure(let error) in results { throw TestFailure("writing keys: \(error)") }
            batch = []
        }
        for index in 0..<count {
            let value = value(index)
            switch index % 10 {
            case 0...5:
                batch.append(["SET", "str:\(index)", value] + (index % 7 == 0 ? ["EX", "86400"] : []))
            case 6:
                batch.append(["HSET", "hash:\(index)", "a", value, "b", "\(index)", "c", String(value.prefix(8))])
            case 7:
                batch.append(["RPUSH", "list:\(index)", value, "\(index)", String(value.suffix(12))])
            case 8:
                batch.append(["SADD", "set:\(index)", value, "\(index)", "x\(index % 13)"])
            default:
                batch.append(["ZADD", "zset:\(index)", "1", value, "2.5", "\(index)"])
            }
            if batch.count == 1000 { try flush() }
        }
        var written = count
        if fieldTTL {
            if node.server == .valkey {
                batch.append(["HSETEX", "fieldttl", "EX", "86400", "FIELDS", "1", "f", "v"])
            } else {
                batch.append(["HSET", "fieldttl", "f", "v", "g", "w"])
                batch.append(["HEXPIRE", "fieldttl", "86400", "FIELDS", "1", "f"])
            }
            written += 1
        }
        try flush()
        let size = try connection.command(["DBSIZE"]).int ?? -1
        guard size == written else { throw TestFailure("DBSIZE \(size) after writing \(written) keys") }
        return written
    }

    /// 48 hex characters that depend on `index`.
    static func value(_ index: Int) -> String {
        bytes(count: 24, seed: UInt64(index)).map { String(format: "%02x", $0) }.joined()
    }

    /// Deterministic pseudo-random bytes (SplitMix64).
    static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var result: [UInt8] = []
        result.reserveCapacity(count + 8)
        while result.count < count {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            mixed ^= mixed >> 31
            withUnsafeBytes(of: mixed) { result.append(contentsOf: $0) }
        }
        return Array(result.prefix(count))
    }
}

/// What a fetched file must be, checked by tools other than the fetcher.
enum RDBChecks {
    /// The file is where `info` says, whole, private, hashed right; the server's own checker reads every key; a
    /// fresh server of the same kind loads it with every key and the right values; no partial file is left.
    static func verify(_ info: RDBFileInfo, at destination: URL, kind: ServerKind, keys: Int, scratch: RDBScratch) throws {
        #expect(info.path == destination.path)
        #expect(!FileManager.default.fileExists(atPath: destination.path + ".partial"))
        var status = stat()
        #expect(stat(destination.path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600, "mode \(String(status.st_mode & 0o777, radix: 8))")
        #expect(Int64(status.st_size) == info.size)
        #expect(info.sha256 == (try sha256sum(destination)))
        let header = try Data(contentsOf: destination).prefix(9)
        #expect(String(decoding: header, as: UTF8.self) == info.header)
        #expect(info.header.hasPrefix(kind == .valkey ? "VALKEY" : "REDIS"), "\(kind) sent \(info.header)")

        let check = try RDBTool.run(try checker(for: kind, scratch: scratch), [destination.path])
        #expect(check.status == 0, "check-rdb failed:\n\(check.output)")
        #expect(check.output.contains("[info] \(keys) keys read"), "check-rdb:\n\(check.output)")

        let restored = RedisNodeProcess(port: PortAllocator.redisPort(), directory: scratch.url("restore-\(UUID().uuidString)"),
                                        password: nil, server: kind, clusterEnabled: false)
        try FileManager.default.createDirectory(at: restored.directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: destination, to: restored.directory.appendingPathComponent("dump.rdb"))
        try restored.start()
        defer { restored.kill() }
        #expect(try restored.cli(["DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines) == "\(keys)")
        #expect(try restored.cli(["GET", "str:1"]).trimmingCharacters(in: .whitespacesAndNewlines) == RDBKeys.value(1))
    }

    /// Redis 7: Debian's redis-check-rdb. Other servers: their own binary under a check-rdb name, which is how the
    /// server knows to check a file instead of serving.
    static func checker(for kind: ServerKind, scratch: RDBScratch) throws -> String {
        guard kind != .redis else { return "/usr/bin/redis-check-rdb" }
        let link = scratch.url(kind == .valkey ? "valkey-check-rdb" : "redis-check-rdb")
        if !FileManager.default.fileExists(atPath: link.path) {
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: try kind.executable())
        }
        return link.path
    }

    static func sha256sum(_ file: URL) throws -> String {
        let result = try RDBTool.run("/usr/bin/sha256sum", [file.path])
        return String(result.output.prefix { !$0.isWhitespace })
    }

    /// Neither the file nor its partial twin exists.
    static func expectNothing(at destination: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(!FileManager.default.fileExists(atPath: destination.path), sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: destination.path + ".partial"), sourceLocation: sourceLocation)
    }
}

enum RDBTool {
    /// Runs a tool; its exit status and its standard output and error together.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A loopback server that speaks just enough of the replication protocol: "+OK" to every command, and to SYNC the
/// scripted pieces (with `pause` seconds between them), then it closes, resets, or holds the connection open.
/// One connection; its thread ends when the client goes away or `stop` is called.
final class FakeReplicationSource: @unchecked Sendable {
    enum Ending: Sendable, CustomStringConvertible {
        case close
        case reset
        case hang

        var description: String {
            switch self {
            case .close: "close"
            case .reset: "reset"
            case .hang: "hang"
            }
        }
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

    init(pieces: [[UInt8]], pause: Double = 0, ending: Ending) throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { [listener] pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 && listen(listener, 4) == 0
            }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        guard listener >= 0, listening else {
            close(listener)
            throw TestFailure("fake replication source: cannot listen on loopback")
        }
        let thread = Thread { [self] in
            serve(pieces: pieces, pause: pause, ending: ending)
            done.signal()
        }
        thread.start()
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        done.wait()
        close(listener)
    }

    private func serve(pieces: [[UInt8]], pause: Double, ending: Ending) {
        guard let client = acceptClient() else { return }
        defer { close(client) }
        var input: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !isStopped {
            var descriptor = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) >= 0 else { return }
            guard descriptor.revents != 0 else { continue }
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            input += buffer[..<count]
            while let (command, used) = Self.command(in: input) {
                input.removeFirst(used)
                guard command.first?.uppercased() == "SYNC" else {
                    guard send(client, "+OK\r\n", 5, Int32(MSG_NOSIGNAL)) == 5 else { return }
                    continue
                }
                for piece in pieces {
                    guard piece.withUnsafeBytes({ send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == piece.count
                    else { return }
                    if pause > 0 { Thread.sleep(forTimeInterval: pause) }
                }
                switch ending {
                case .close:
                    return
                case .reset:
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    _ = setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    return
                case .hang:
                    while !isStopped { Thread.sleep(forTimeInterval: 0.05) }
                    return
                }
            }
        }
    }

    /// Waits for the one client, or nil once stopped.
    private func acceptClient() -> Int32? {
        while !isStopped {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 100) > 0 {
                let client = accept(listener, nil, nil)
                return client >= 0 ? client : nil
            }
        }
        return nil
    }

    /// The first complete RESP command in `input` and the bytes it takes, or nil while incomplete.
    static func command(in input: [UInt8]) -> ([String], Int)? {
        func line(from start: Int) -> (String, Int)? {
            var index = start
            while index + 1 < input.count {
                if input[index] == UInt8(ascii: "\r") && input[index + 1] == UInt8(ascii: "\n") {
                    return (String(decoding: input[start..<index], as: UTF8.self), index + 2)
                }
                index += 1
            }
            return nil
        }
        guard let (header, afterHeader) = line(from: 0), header.first == "*", let count = Int(header.dropFirst()) else {
            return nil
        }
        var arguments: [String] = []
        var offset = afterHeader
        for _ in 0..<count {
            guard let (bulk, afterBulk) = line(from: offset), bulk.first == "$", let length = Int(bulk.dropFirst()),
                  afterBulk + length + 2 <= input.count else { return nil }
            arguments.append(String(decoding: input[afterBulk..<(afterBulk + length)], as: UTF8.self))
            offset = afterBulk + length + 2
        }
        return (arguments, offset)
    }
}
