import ClusterModel
import ClusterOps
import Foundation
import Glibc

/// Where backups live on the service's host: `<root>/<cluster id>/<backup id>/`, one RDB file per shard and a
/// `manifest.json` written last. A folder with a manifest is a complete backup; one without is a backup still being
/// written, or one that failed or was cancelled (its job says which). Folders and files are private to the
/// service's user (0700, 0600): they hold every key of the cluster.
public struct BackupDirectory: Sendable {
    public let root: URL
    public static let manifestName = "manifest.json"

    public init(root: URL) {
        self.root = root
    }

    /// Cluster ids are checked at registration (letters, digits, `.`, `_`, `-`); backup ids are made by the service.
    /// Both are checked again here, so no name can reach outside the root.
    public static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name != "." && name != ".."
            && name.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    func clusterFolder(_ clusterId: String) -> URL? {
        Self.isSafeName(clusterId) ? root.appendingPathComponent(clusterId, isDirectory: true) : nil
    }

    public func folder(clusterId: String, backupId: String) -> URL? {
        guard Self.isSafeName(backupId) else { return nil }
        return clusterFolder(clusterId)?.appendingPathComponent(backupId, isDirectory: true)
    }

    /// Creates the backup's folder and those above it, each 0700.
    func create(clusterId: String, backupId: String) throws(ClusterOpsError) -> URL {
        guard let folder = folder(clusterId: clusterId, backupId: backupId) else {
            throw .impossible("'\(clusterId)/\(backupId)' is not a backup folder name")
        }
        for directory in [root, folder.deletingLastPathComponent(), folder] {
            if mkdir(directory.path, 0o700) != 0 && errno != EEXIST {
                if errno == ENOENT, (try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                                              attributes: [.posixPermissions: 0o700])) != nil {
                    continue
                }
                throw .failed("cannot create the backup folder \(directory.path): \(String(cString: strerror(errno)))")
            }
        }
        return folder
    }

    /// Free bytes for an unprivileged writer on the filesystem that holds `root` (or its nearest existing parent).
    public func freeBytes() -> Int64? {
        var path = root
        while !FileManager.default.fileExists(atPath: path.path) && path.pathComponents.count > 1 {
            path = path.deletingLastPathComponent()
        }
        var stats = statvfs()
        guard statvfs(path.path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// Writes the manifest last, atomically (a temporary file, synced, renamed): a folder either has a whole one or none.
    func writeManifest(_ manifest: BackupManifest, in folder: URL) throws(ClusterOpsError) {
        let path = folder.appendingPathComponent(Self.manifestName).path
        let temporary = path + ".partial"
        let bytes: [UInt8]
        do {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            bytes = Array(try encoder.encode(manifest))
        } catch {
            throw .failed("cannot encode the backup manifest: \(error)")
        }
        _ = unlink(temporary)
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .failed("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var offset = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else {
                    failure = written < 0 ? errno : ENOSPC
                    return
                }
            }
        }
        let synced = failure == 0 && fsync(fd) == 0
        _ = Glibc.close(fd)
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(failure != 0 ? failure : errno))
            _ = unlink(temporary)
            throw .failed("cannot write the backup manifest \(path): \(reason)")
        }
        let directory = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            _ = Glibc.close(directory)
        }
    }

    /// The cluster's backups, newest first.
    public func list(clusterId: String) -> [BackupListing] {
        guard let folder = clusterFolder(clusterId),
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return names.filter(Self.isSafeName).compactMap { backup(clusterId: clusterId, backupId: $0) }
            .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    /// One backup: its manifest when complete, else what its folder holds so far.
    public func backup(clusterId: String, backupId: String) -> BackupListing? {
        guard let folder = folder(clusterId: clusterId, backupId: backupId) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        let manifestPath = folder.appendingPathComponent(Self.manifestName).path
        if let data = FileManager.default.contents(atPath: manifestPath) {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            if let manifest = try? decoder.decode(BackupManifest.self, from: data) {
                return BackupListing(id: backupId, clusterId: clusterId, status: "complete", directory: folder.path,
                                     createdAt: manifest.startedAt, jobId: manifest.jobId,
                                     bytes: manifest.files.reduce(0) { $0 + $1.size }, files: manifest.files.count, manifest: manifest)
            }
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".rdb") }
        let bytes = files.reduce(Int64(0)) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size] as? NSNumber)??.int64Value
            return total + (size ?? 0)
        }
        let (createdAt, jobId) = Self.parse(backupId)
        return BackupListing(id: backupId, clusterId: clusterId, status: "incomplete", directory: folder.path,
                             createdAt: createdAt ?? "", jobId: jobId, bytes: bytes, files: files.count, manifest: nil)
    }

    /// Removes a backup's folder and everything in it.
    public func remove(clusterId: String, backupId: String) throws {
        guard let folder = folder(clusterId: clusterId, backupId: backupId) else { return }
        try FileManager.default.removeItem(at: folder)
    }

    /// Removes the backups (complete or not) started before `cutoff`, except those whose job `isActive` says is
    /// still queued or running; returns the ids removed ("cluster/backup").
    public func prune(startedBefore cutoff: Date, isActive: (Int64) -> Bool) -> [String] {
        var removed: [String] = []
        for backup in all() {
            guard let started = Self.date(backup.createdAt), started < cutoff else { continue }
            if let job = backup.jobId, isActive(job) { continue }
            if (try? remove(clusterId: backup.clusterId, backupId: backup.id)) != nil {
                removed.append("\(backup.clusterId)/\(backup.id)")
            }
        }
        return removed
    }

    private static func date(_ text: String) -> Date? {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
        return try? style.parse(text)
    }

    /// Every cluster's backups (the pruner's view).
    public func all() -> [BackupListing] {
        let clusters = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return clusters.filter(Self.isSafeName).flatMap { list(clusterId: $0) }
    }

    /// `20261206T023500Z-job17`: when the backup started and the job that makes it, readable and in time order.
    public static func backupId(startedAt date: Date, jobId: Int64) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                           Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return "\(stamp)-job\(jobId)"
    }

    /// The start time (RFC 3339) and job id a backup id carries.
    static func parse(_ backupId: String) -> (String?, Int64?) {
        let parts = backupId.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 16, parts[1].hasPrefix("job") else { return (nil, nil) }
        let s = Array(parts[0])
        let text = "\(String(s[0..<4]))-\(String(s[4..<6]))-\(String(s[6..<8]))T\(String(s[9..<11])):\(String(s[11..<13])):\(String(s[13..<15])).000Z"
        return (text, Int64(parts[1].dropFirst(3)))
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}

/// A backup as the API lists it.
public struct BackupListing: Codable, Sendable, Equatable {
    public var id: String
    public var clusterId: String
    /// "complete" (its manifest is written) or "incomplete" (being written, or its job failed or was cancelled).
    public var status: String
    public var directory: String
    public var createdAt: String
    public var jobId: Int64?
    public var bytes: Int64
    public var files: Int
    public var manifest: BackupManifest?
}

/// What a complete backup holds, written beside its files: the cluster's layout when it was taken, and each file
/// with the shard it holds, the node it came from, its size and SHA-256.
public struct BackupManifest: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        public var id: String
        public var address: String
        public var role: String
        public var masterId: String?
        public var slots: SlotSet
        public var server: String?
    }

    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var masterId: String
        public var masterAddress: String
        public var slots: SlotSet
        /// The node the snapshot was read from: the master, or one of its replicas in sync when it was chosen.
        public var source: String
        public var sourceRole: String
        public var server: String?
        public var size: Int64
        public var sha256: String
        /// The RDB header ("REDIS0011", "VALKEY080"): which servers can load the file.
        public var header: String
        public var takenAt: String
    }

    public var format: Int
    public var id: String
    public var clusterId: String
    public var jobId: Int64
    public var startedAt: String
    public var finishedAt: String
    public var nodes: [Node]
    public var files: [File]
    public var bytes: Int64
}
