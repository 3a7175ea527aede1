import Foundation

/// A SQLite database shared by the service's threads. Every use goes through one connection under a lock:
/// the service's write rate is small, and one connection means no SQLITE_BUSY between our own threads.
public final class Database: @unchecked Sendable {
    // Guarded by `lock`.
    private let connection: Connection
    private let lock = NSLock()
    public let path: String

    /// Opens (creating if needed) the database at `path`, with WAL, synchronous=NORMAL, foreign keys on and a
    /// bounded busy timeout for other processes holding the file.
    public init(path: String, busyTimeoutMilliseconds: Int = 5000) throws {
        self.path = path
        if path != ":memory:" {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        connection = try Connection(path: path)
        try connection.executeScript("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)")
        let mode = try connection.query("PRAGMA journal_mode = WAL").first?[0].string ?? ""
        if path != ":memory:" && mode.lowercased() != "wal" {
            throw SQLiteError(code: 1, message: "could not switch \(path) to WAL (journal_mode is \(mode))")
        }
        try connection.executeScript("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
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
