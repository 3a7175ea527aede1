import Foundation
import Glibc

/// A SQLite database shared by the service's threads. Every use goes through one connection under a lock:
/// the service's write rate is small, and one connection means no SQLITE_BUSY between our own threads.
public final class Database: @unchecked Sendable {
    // Guarded by `lock`.
    private let connection: Connection
    private let lock = NSLock()
    public let path: String

    /// Opens (creating if needed) the database at `path`, with WAL, synchronous=NORMAL, foreign keys on and a
    /// bounded busy timeout for other processes holding the file. The file is readable by its owner only (0600;
    /// SQLite gives its -wal and -shm files the same mode), and deleted content is overwritten, not left in free pages.
    public init(path: String, busyTimeoutMilliseconds: Int = 5000) throws {
        self.path = path
        if path != ":memory:" {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            // Private to the service's user: the database holds sealed secrets and the audit trail.
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                _ = chmod(file, 0o600)
            }
        }
        connection = try Connection(path: path)
        try connection.executeScript("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)")
        let mode = try connection.query("PRAGMA journal_mode = WAL").first?[0].string ?? ""
        if path != ":memory:" && mode.lowercased() != "wal" {
            throw SQLiteError(code: 1, message: "could not switch \(path) to WAL (journal_mode is \(mode))")
        }
        try connection.executeScript("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")
    }

    /// Runs `body` with the connection, outside any explicit transaction.
    public func read<T>(_ body: (Connection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(connection)
    }

    /// Runs `body` in one IMMEDIATE transaction; a throw rolls everything back.
    public func write<T>(_ body: (Connection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try connection.transaction(body)
    }
}
