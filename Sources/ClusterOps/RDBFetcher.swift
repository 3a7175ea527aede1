import ClusterModel
import Foundation
import RESP

/// Fetches a consistent snapshot of one node as an RDB file over the replication protocol, as `redis-cli --rdb`
/// does: the node forks, saves its data set as of that instant, and sends it to us as it would to a new replica.
/// Its data and its replicas are left alone (a disk-based sync writes its dump file on the way, as BGSAVE would).
///
/// The exchange: `REPLCONF capa eof` (we read diskless streams), `REPLCONF rdb-only 1` (the RDB and nothing after
/// it; servers before 7.0 refuse it, and are still read correctly since the payload's end is known without it),
/// on Valkey `REPLCONF version <its own>` (so it sends its native format, the one its own dump.rdb has: without it
/// Valkey 9 falls back to RDB 11, which cannot hold every key of a Valkey 9 data set), then `SYNC`. The node answers
/// with newlines while it prepares the snapshot (up to `repl-diskless-sync-delay`, 5 s by default, plus the fork),
/// then either `$<length>\r\n` and that many bytes (disk-based) or `$EOF:<mark>\r\n` and a stream that ends with the
/// same 40-byte mark (diskless, the default since Redis 7 and in Valkey).
///
/// The payload is streamed to `<destination>.partial` (mode 0600) while its SHA-256 is computed, then synced and
/// renamed; any failure removes the partial file and says what happened.
public struct RDBFetcher {
    public typealias Connect = @Sendable () throws(RedisError) -> RedisConnection

    /// The node, as named in messages.
    public let endpoint: String
    let connect: Connect
    let observer: (any OperationObserver)?
    /// Seconds the node may send nothing at all, keep-alives included, before the fetch is abandoned. A node
    /// preparing a snapshot sends a newline every second, so only a node that stalled goes this long.
    public var stallTimeout: Double = 60
    /// True: ask for a diskless stream (`REPLCONF capa eof`): nothing touches the node's disk, but a node with
    /// `repl-diskless-sync` waits `repl-diskless-sync-delay` (5 s by default) before it forks. False: the node saves
    /// the snapshot to its own disk first (as BGSAVE, overwriting its dump file) and sends it at once, with its
    /// length, as `redis-cli --cluster backup` gets it.
    public var diskless = true

    /// `connect` makes a new, authenticated connection each fetch; the fetch closes it (after SYNC it carries the
    /// replication protocol, not replies). `observer` gets the fetch's milestones, and its `shouldStop` cancels.
    public init(endpoint: String, observer: (any OperationObserver)? = nil, connect: @escaping Connect) {
        self.endpoint = endpoint
        self.connect = connect
        self.observer = observer
    }

    /// A node reached directly, with its own credentials and TLS.
    public init(endpoint: RedisEndpoint, credentials: RedisCredentials? = nil, tls: TLSConfiguration? = nil,
                connectTimeout: Double = 2, readTimeout: Double = 10, observer: (any OperationObserver)? = nil) {
        self.init(endpoint: endpoint.description, observer: observer) { () throws(RedisError) -> RedisConnection in
            try RedisConnection(endpoint: endpoint, credentials: credentials, tls: tls, connectTimeout: connectTimeout,
                                readTimeout: readTimeout)
        }
    }

    /// A node of a cluster, reached as the cluster's other connections are (credentials, TLS, timeouts, address map,
    /// loopback rule), on a connection of its own rather than a pooled one, since a fetch uses it up.
    public init(node: RedisEndpoint, access: ClusterAccess, observer: (any OperationObserver)? = nil) {
        self.init(endpoint: node.description, observer: observer) { () throws(RedisError) -> RedisConnection in
            let target = access.dialled(node)
            guard access.allowRemoteNodes || target.isLoopback else {
                let name = target == node ? node.description : "\(node) (mapped to \(target))"
                throw .connectFailed(endpoint: name, reason: "not a loopback address and remote nodes are not allowed")
            }
            return try RedisConnection(endpoint: target, credentials: access.credentials, tls: access.tls,
                                       connectTimeout: access.connectTimeout, readTimeout: access.readTimeout)
        }
    }

    /// Fetches the node's snapshot into `destination` (replaced if it exists; its directory must exist).
    ///
    /// `bytesPerSecond` caps the average rate the snapshot is read at (the node's socket buffers and TCP flow control
    /// hold it back meanwhile). `isCancelled` is asked between chunks and at least every quarter second while
    /// waiting; `progress` gets the bytes written and the total when the node said it (disk-based), at least every
    /// half second and once at the end.
    public func fetch(to destination: URL, bytesPerSecond: Int? = nil, isCancelled: () -> Bool = { false },
                      progress: (_ written: Int64, _ total: Int64?) -> Void = { _, _ in }) throws(ClusterOpsError) -> RDBFileInfo {
        let result = withoutActuallyEscaping(isCancelled) { isCancelled in
            withoutActuallyEscaping(progress) { progress in
                Result { () throws(ClusterOpsError) -> RDBFileInfo in
                    let transfer = RDBTransfer(
                        endpoint: endpoint, destination: destination, stallTimeout: stallTimeout, diskless: diskless,
                        bytesPerSecond: bytesPerSecond.map { Double(max(1, $0)) },
                        isCancelled: { [observer] in isCancelled() || observer?.shouldStop() == true },
                        progress: progress)
                    return try transfer.run(connect: connect, observer: observer)
                }
            }
        }
        return try result.get()
    }
}

/// How the payload after SYNC is delimited.
enum RDBPayloadFraming: Equatable {
    /// Disk-based: exactly this many bytes.
    case length(Int64)
    /// Diskless: a stream that ends with this 40-byte mark.
    case eofMark([UInt8])

    static let markLength = 40
    /// Longer than any header line a server sends; more means the reply is not one.
    static let maxLineLength = 128

    /// The payload header line without its CRLF: `$EOF:<mark>` or `$<length>`; nil when it is neither.
    static func parse(_ line: ArraySlice<UInt8>) -> RDBPayloadFraming? {
        let text = Array(line)
        let eofPrefix = Array("$EOF:".utf8)
        if text.starts(with: eofPrefix) {
            let mark = Array(text.dropFirst(eofPrefix.count))
            return mark.count == markLength ? .eofMark(mark) : nil
        }
        guard text.first == UInt8(ascii: "$"), text.count > 1,
              let length = Int64(String(decoding: text.dropFirst(), as: UTF8.self)), length >= 0 else { return nil }
        return .length(length)
    }

    /// Whether a file starts as an RDB does: "REDIS" and four digits, or Valkey 9's "VALKEY" and three.
    static func isRDBHeader(_ header: [UInt8]) -> Bool {
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        for magic in ["REDIS", "VALKEY"] {
            let prefix = Array(magic.utf8)
            if header.count == RDBPartialFile.headerLength, header.starts(with: prefix),
               header.dropFirst(prefix.count).allSatisfy(digits.contains) {
                return true
            }
        }
        return false
    }
}

/// One fetch: the exchange with the node, the pacing, the reporting and the file, each failure phrased with how far
/// it got. Used once.
final class RDBTransfer {
    let endpoint: String
    let destination: URL
    let stallTimeout: Double
    let diskless: Bool
    let bytesPerSecond: Double?
    let isCancelled: () -> Bool
    let progress: (Int64, Int64?) -> Void
    private var buffer: [UInt8]
    private var file: RDBPartialFile?
    private var total: Int64?
    /// Payload bytes read, which the throttle paces; the mark of a diskless stream counts, the header line not.
    private var received: Int64 = 0
    private var firstByteAt: Double?
    private var lastByteAt: Double
    private var lastReportAt: Double
    private static let slice = 0.25
    private static let reportInterval = 0.5

    init(endpoint: String, destination: URL, stallTimeout: Double, diskless: Bool = true, bytesPerSecond: Double?,
         isCancelled: @escaping () -> Bool, progress: @escaping (Int64, Int64?) -> Void) {
        self.endpoint = endpoint
        self.destination = destination
        self.stallTimeout = stallTimeout
        self.diskless = diskless
        self.bytesPerSecond = bytesPerSecond
        self.isCancelled = isCancelled
        self.progress = progress
        // Throttled: reads of a tenth of a second's worth, so the pace is even; else large reads, few system calls.
        let chunk = bytesPerSecond.map { min(128 * 1024, max(4096, Int($0 / 10))) } ?? 128 * 1024
        buffer = [UInt8](repeating: 0, count: chunk)
        lastByteAt = Self.now()
        lastReportAt = lastByteAt
    }

    private var written: Int64 { file?.size ?? 0 }

    func run(connect: RDBFetcher.Connect, observer: (any OperationObserver)?) throws(ClusterOpsError) -> RDBFileInfo {
        if isCancelled() { throw .failed("fetching the RDB of \(endpoint) was cancelled before it started") }
        let connection: RedisConnection
        do {
            connection = try connect()
        } catch {
            throw nodeError(error)
        }
        defer { connection.close() }
        do throws(ClusterOpsError) {
            let rdbOnly = try startSync(on: connection)
            observer?.event("SYNC sent" + (rdbOnly ? " (rdb-only)" : " (the node does not know rdb-only)"), node: endpoint)
            let (framing, rest) = try readFraming(from: connection)
            switch framing {
            case .length(let length):
                observer?.event("the node sends its snapshot from disk: \(ByteCount.text(length))", node: endpoint)
            case .eofMark:
                observer?.event("the node streams its snapshot (diskless)", node: endpoint)
            }
            let file = try RDBPartialFile(destination: destination)
            self.file = file
            try stream(framing, first: rest, from: connection, into: file)
            connection.close()
            let info = try file.commit()
            progress(info.size, info.size)
            observer?.event("RDB of \(ByteCount.text(info.size)) (\(info.header)) written to \(info.path), "
                            + "sha256 \(info.sha256)", node: endpoint)
            return info
        } catch {
            file?.discard()
            throw error
        }
    }

    /// Announces what we read and asks for the snapshot; true when the node took rdb-only. Error replies to the
    /// REPLCONFs are not fatal: an older server lacks an option and sends what it can.
    private func startSync(on connection: RedisConnection) throws(ClusterOpsError) -> Bool {
        var replconf: [[String]] = (diskless ? [["REPLCONF", "capa", "eof"]] : []) + [["REPLCONF", "rdb-only", "1"]]
        do throws(RedisError) {
            var info: String?
            do throws(RedisError) {
                info = try connection.command(["INFO", "server"]).string
            } catch {
                // A user allowed SYNC but not INFO gets Valkey's compatible format instead of its native one.
                if connection.isClosed { throw error }
            }
            if let version = info.flatMap({ InfoFields.parse($0)["valkey_version"] }) {
                replconf.append(["REPLCONF", "version", version])
            }
            let replies = try connection.pipeline(replconf.map { $0.map { Array($0.utf8) } })
            try connection.sendCommand(["SYNC"])
            return (try? replies[diskless ? 1 : 0].get()) != nil
        } catch {
            throw .redis(endpoint: endpoint, error)
        }
    }

    /// Skips the keep-alive newlines and reads the payload header; returns it with the payload bytes read with it.
    private func readFraming(from connection: RedisConnection) throws(ClusterOpsError) -> (RDBPayloadFraming, ArraySlice<UInt8>) {
        let newline = UInt8(ascii: "\n")
        var line: [UInt8] = []
        while true {
            let chunk = try nextChunk(from: connection)
            let start = line.isEmpty ? chunk.firstIndex { $0 != newline } ?? chunk.endIndex : chunk.startIndex
            guard let end = chunk[start...].firstIndex(of: newline) else {
                line += chunk[start...]
                guard line.count <= RDBPayloadFraming.maxLineLength else { throw notAPayload(line[...]) }
                continue
            }
            line += chunk[start..<end]
            guard line.last == UInt8(ascii: "\r") else { throw notAPayload(line[...]) }
            let header = line.dropLast()
            if header.first == UInt8(ascii: "-") {
                throw nodeError(.fromErrorReply(String(decoding: header.dropFirst(), as: UTF8.self)))
            }
            guard let framing = RDBPayloadFraming.parse(header) else { throw notAPayload(header) }
            if case .length(let length) = framing { total = length }
            return (framing, chunk[(end + 1)...])
        }
    }

    /// Copies the payload into `file`: `first` (read with the header), then chunks until its length or its mark.
    private func stream(_ framing: RDBPayloadFraming, first: ArraySlice<UInt8>, from connection: RedisConnection,
                        into file: RDBPartialFile) throws(ClusterOpsError) {
        firstByteAt = Self.now()
        received = Int64(first.count)
        var chunk = first
        switch framing {
        case .length(let length):
            while true {
                let take = Int(min(Int64(chunk.count), length - written))
                try write(chunk.prefix(take), to: file)
                try pace()
                if written == length { break }
                chunk = try nextChunk(releasing: &chunk, from: connection)
            }
        case .eofMark(let mark):
            // The last 40 bytes read are held back: they may be the mark, which is not part of the file.
            var tail: [UInt8] = []
            while true {
                if chunk.count >= mark.count {
                    try write(tail[...], to: file)
                    try write(chunk.dropLast(mark.count), to: file)
                    tail = Array(chunk.suffix(mark.count))
                } else {
                    tail += chunk
                    let excess = max(0, tail.count - mark.count)
                    try write(tail[..<excess], to: file)
                    tail.removeFirst(excess)
                }
                try pace()
                if tail == mark { break }
                chunk = try nextChunk(releasing: &chunk, from: connection)
            }
        }
        guard RDBPayloadFraming.isRDBHeader(file.header) else { throw notAnRDB(file) }
    }

    /// `nextChunk` once the previous chunk is let go of, so the read buffer is not copied to keep it alive.
    private func nextChunk(releasing previous: inout ArraySlice<UInt8>, from connection: RedisConnection)
        throws(ClusterOpsError) -> ArraySlice<UInt8> {
        previous = []
        return try nextChunk(from: connection)
    }

    private func write(_ bytes: ArraySlice<UInt8>, to file: RDBPartialFile) throws(ClusterOpsError) {
        try file.write(bytes, expected: total)
        if file.header.count == RDBPartialFile.headerLength && !RDBPayloadFraming.isRDBHeader(file.header) {
            throw notAnRDB(file)
        }
    }

    /// The next bytes from the node, waiting in short slices so cancellation and progress go on meanwhile. Counts
    /// them towards the throttle.
    private func nextChunk(from connection: RedisConnection) throws(ClusterOpsError) -> ArraySlice<UInt8> {
        while true {
            try checkCancelled()
            let count: Int
            do {
                count = try connection.readRaw(into: &buffer, timeout: Self.slice)
            } catch {
                throw brokenConnection(error)
            }
            let now = Self.now()
            if count > 0 {
                lastByteAt = now
                if file != nil { received += Int64(count) }
                report()
                return buffer[..<count]
            }
            report()
            if now - lastByteAt >= stallTimeout { throw stalled() }
        }
    }

    /// Sleeps until the bytes read so far are within the rate, in slices that keep cancellation and progress going.
    private func pace() throws(ClusterOpsError) {
        guard let bytesPerSecond, let firstByteAt else { return }
        while true {
            let wait = firstByteAt + Double(received) / bytesPerSecond - Self.now()
            guard wait > 0 else { return }
            try checkCancelled()
            report()
            Thread.sleep(forTimeInterval: min(wait, Self.slice))
        }
    }

    private func report() {
        let now = Self.now()
        guard now - lastReportAt >= Self.reportInterval else { return }
        lastReportAt = now
        progress(written, total)
    }

    private func checkCancelled() throws(ClusterOpsError) {
        guard isCancelled() else { return }
        throw .failed("fetching the RDB of \(endpoint) was cancelled" + soFar())
    }

    /// " after 1.2 MB of 5 MB; nothing was kept", or "" before the payload began.
    private func soFar() -> String {
        guard file != nil else { return " while the node prepared the snapshot" }
        return " after \(ByteCount.text(written))" + (total.map { " of \(ByteCount.text($0))" } ?? "")
            + "; \(destination.path).partial was removed"
    }

    private func nodeError(_ error: RedisError) -> ClusterOpsError {
        switch error {
        case .wrongPass(let message), .noAuth(let message):
            .authenticationFailed("\(endpoint) refused the credentials given: \(message)")
        case .tlsFailed:
            .tlsFailed(error.description)
        default:
            .redis(endpoint: endpoint, error)
        }
    }

    private func brokenConnection(_ error: RedisError) -> ClusterOpsError {
        guard file != nil else {
            if case .connectionClosed = error {
                return .failed("\(endpoint) closed the connection before sending the snapshot (a failed fork or save, "
                               + "or a replica limit; the node's log says which)")
            }
            return .redis(endpoint: endpoint, error)
        }
        let what: String
        if case .connectionClosed = error { what = "\(endpoint) closed the connection" } else { what = error.description }
        return .failed("the RDB of \(endpoint) was cut short: \(what)" + soFar())
    }

    private func stalled() -> ClusterOpsError {
        let seconds = Int(stallTimeout.rounded())
        guard file != nil else {
            return .failed("\(endpoint) sent nothing, not even a keep-alive, for \(seconds) s after SYNC; gave up waiting "
                           + "for its snapshot")
        }
        return .failed("\(endpoint) sent nothing for \(seconds) s in the middle of the RDB" + soFar())
    }

    private func notAPayload(_ line: ArraySlice<UInt8>) -> ClusterOpsError {
        .failed("\(endpoint) answered SYNC with \(Self.printable(line)), not an RDB payload")
    }

    private func notAnRDB(_ file: RDBPartialFile) -> ClusterOpsError {
        file.discard()
        return .failed("\(endpoint) sent a payload that is not an RDB file (it starts with \(Self.printable(file.header[...]))"
                       + ", not REDIS or VALKEY and a version); nothing was kept")
    }

    /// Bytes as quoted text, non-printable ones escaped, cut at 64.
    static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        var text = ""
        for byte in bytes.prefix(64) {
            text += (0x20..<0x7f).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
        }
        return "\"\(text)\"" + (bytes.count > 64 ? "..." : "")
    }

    static func now() -> Double {
        ProcessInfo.processInfo.systemUptime
    }
}
