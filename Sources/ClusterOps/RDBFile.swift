import COpenSSL
import Foundation
import Glibc

/// A fetched RDB as it lies on disk: whole, synced, named by the caller.
public struct RDBFileInfo: Sendable, Codable, Equatable {
    public var path: String
    public var size: Int64
    /// SHA-256 of the file's bytes, lowercase hex, computed while they were written.
    public var sha256: String
    /// The file's first nine bytes, e.g. "REDIS0011" or "VALKEY080": which servers can load it.
    public var header: String

    public init(path: String, size: Int64, sha256: String, header: String) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.header = header
    }
}

/// The file an RDB is streamed into: `<destination>.partial`, private to its owner (0600) from creation, renamed to
/// `destination` only once every byte is written and synced, and removed on any failure, so that no half file ever
/// lies under the final name or survives looking like one. Hashes and counts what it writes.
final class RDBPartialFile {
    let destination: String
    let partialPath: String
    private var fd: Int32
    /// Set once the partial file was renamed to the destination (then it is the caller's) or removed.
    private var settled = false
    private let hasher: SHA256Hasher
    private(set) var size: Int64 = 0
    /// The first bytes written, up to the length of an RDB header.
    private(set) var header: [UInt8] = []
    static let headerLength = 9

    /// Removes a stale partial file first: one left by a crash must not block every later fetch. The partial file
    /// is locked (flock) while it is written, so a second fetch into the same destination refuses instead of
    /// removing it from under the first, whose rename would then publish the second's unfinished file.
    init(destination: URL) throws(ClusterOpsError) {
        self.destination = destination.path
        self.partialPath = destination.path + ".partial"
        hasher = try SHA256Hasher()
        let stale = open(partialPath, O_RDONLY | O_CLOEXEC)
        if stale >= 0 {
            let busy = flock(stale, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK
            _ = Glibc.close(stale)
            if busy { throw .failed("another fetch is writing \(partialPath); nothing was changed") }
        }
        if unlink(partialPath) != 0 && errno != ENOENT {
            throw .failed("cannot remove the stale \(partialPath): \(Self.errnoText())")
        }
        fd = open(partialPath, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .failed("cannot create \(partialPath): \(Self.errnoText())") }
        _ = flock(fd, LOCK_EX | LOCK_NB)
    }

    deinit { discard() }

    /// Appends `bytes`; `expected` (the whole payload's size, when known) is only for the error message.
    func write(_ bytes: ArraySlice<UInt8>, expected: Int64?) throws(ClusterOpsError) {
        guard !bytes.isEmpty else { return }
        if header.count < Self.headerLength {
            header += bytes.prefix(Self.headerLength - header.count)
        }
        hasher.update(bytes)
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written > 0 {
                    offset += written
                    size += Int64(written)
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    failure = written < 0 ? errno : ENOSPC
                    return
                }
            }
        }
        if failure != 0 { throw writeError(failure, expected: expected) }
    }

    /// Syncs the file, renames it to the destination and syncs the directory, so the name and the bytes both survive
    /// a crash from here on.
    func commit() throws(ClusterOpsError) -> RDBFileInfo {
        while fsync(fd) != 0 {
            guard errno == EINTR else { throw writeError(errno, expected: size) }
        }
        let closed = Glibc.close(fd)
        fd = -1
        guard closed == 0 || errno == EINTR else { throw writeError(errno, expected: size) }
        guard rename(partialPath, destination) == 0 else {
            let reason = Self.errnoText()
            _ = unlink(partialPath)
            throw .failed("cannot rename \(partialPath) to \(destination): \(reason); the partial file was removed")
        }
        settled = true
        let directory = (destination as NSString).deletingLastPathComponent
        let directoryFd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFd >= 0 {
            defer { _ = Glibc.close(directoryFd) }
            // EINVAL: the file system cannot sync directories, and has nothing to make durable that way.
            if fsync(directoryFd) != 0 && errno != EINVAL {
                throw .failed("\(destination) is complete, but syncing its directory failed: \(Self.errnoText())")
            }
        }
        return RDBFileInfo(path: destination, size: size, sha256: hasher.finish(),
                           header: String(decoding: header, as: UTF8.self))
    }

    /// Closes and removes the partial file; leaves a committed file alone.
    func discard() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
        guard !settled else { return }
        settled = true
        _ = unlink(partialPath)
    }

    /// A write or sync failure, named the way an operator acts on it; the partial file is removed first.
    private func writeError(_ code: Int32, expected: Int64?) -> ClusterOpsError {
        discard()
        let what: String
        switch code {
        case ENOSPC: what = "disk full"
        case EDQUOT: what = "disk quota exceeded"
        case EFBIG: what = "file size limit reached"
        default: what = "I/O error (\(String(cString: strerror(code))))"
        }
        return .failed("\(what) writing \(destination): wrote \(ByteCount.text(size))"
                       + (expected.map { " of \(ByteCount.text($0))" } ?? "") + "; the partial file was removed")
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// SHA-256 over OpenSSL's EVP interface, fed as bytes arrive.
final class SHA256Hasher {
    private let context: OpaquePointer

    init() throws(ClusterOpsError) {
        guard let context = EVP_MD_CTX_new() else { throw .failed("cannot allocate a SHA-256 context") }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw .failed("cannot initialise SHA-256")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { raw in
            _ = EVP_DigestUpdate(context, raw.baseAddress, raw.count)
        }
    }

    /// The digest as lowercase hex; the hasher is spent afterwards.
    func finish() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &digest, &length)
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest.prefix(Int(length)) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Byte counts as an operator reads them: "812 bytes", "1.2 MB".
public enum ByteCount {
    public static func text(_ bytes: Int64) -> String {
        let units = ["KB", "MB", "GB", "TB"]
        guard bytes >= 1000 else { return "\(bytes) bytes" }
        var value = Double(bytes) / 1000
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        let rounded = (value * 10).rounded() / 10
        let number = rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
        return "\(number) \(units[unit])"
    }
}

extension RDBFileInfo {
    /// An RDB file already on disk, read again: its size, SHA-256 and header, as a fetch reported them. A backup
    /// resumed after a crash checks the files it finished before against its checkpoint this way.
    public static func inspect(_ path: String) throws(ClusterOpsError) -> RDBFileInfo {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .failed("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { _ = Glibc.close(fd) }
        let hasher = try SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size: Int64 = 0
        var header: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .failed("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            let chunk = buffer[0..<count]
            if header.count < RDBPartialFile.headerLength { header += chunk.prefix(RDBPartialFile.headerLength - header.count) }
            hasher.update(chunk)
            size += Int64(count)
        }
        return RDBFileInfo(path: path, size: size, sha256: hasher.finish(), header: String(decoding: header, as: UTF8.self))
    }
}
