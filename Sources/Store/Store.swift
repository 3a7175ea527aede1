import EmbeddedResources
import SQLite

/// The service's records in SQLite. Thread-safe: every call goes through the database's lock. Every committed
/// change to a job is posted to `changes`, so nothing in the service polls the database to see a job move.
public final class Store: Sendable {
    public let database: Database
    public let changes = JobChangeHub()
    /// Seals and opens cluster passwords; its key never enters the database.
    let secrets: SecretBox

    /// Opens the store and applies the migrations compiled into the binary; refuses a newer schema. Passwords
    /// stored in plain text by an older version are sealed now, and every stored password must open with
    /// `secrets`: a wrong key file is refused here, at start, rather than failing each job later.
    public init(database: Database, secrets: SecretBox = .ephemeral()) throws {
        self.database = database
        self.secrets = secrets
        try Migrator(Store.migrations()).migrate(database)
        try sealPlainPasswords()
        try checkSealedPasswords()
    }

    /// `secretKeyPath` defaults to the database's path with `.key` appended (created at first start, mode 0600).
    public convenience init(path: String, secretKeyPath: String? = nil, busyTimeoutMilliseconds: Int = 5000,
                            log: (String) -> Void = { _ in }) throws {
        let secrets = path == ":memory:" ? SecretBox.ephemeral()
            : try SecretKeyFile.loadOrCreate(path: secretKeyPath ?? path + ".key", log: log)
        try self.init(database: try Database(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds), secrets: secrets)
    }

    /// Migrations from `migrations/NNNN_name.sql`: the number before the first underscore is the version.
    static func migrations() throws -> [Migration] {
        try EmbeddedResources.migrationFiles.map { file in
            let stem = file.name.hasSuffix(".sql") ? String(file.name.dropLast(4)) : file.name
            guard let version = Int(stem.prefix { $0.isNumber }), version > 0 else {
                throw StoreError.corruptRecord("migration file \(file.name) does not start with a version number")
            }
            return Migration(version: version, name: stem, sql: file.sql)
        }
    }

    /// Copies the write-ahead log into the database file and empties it: at shutdown, so the file on disk is whole
    /// on its own whatever threads still hold the store.
    public func checkpoint() throws {
        try read { db in _ = try db.query("PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// One IMMEDIATE transaction; the changes it returns are posted once it has committed.
    func writeAndPost<T>(_ body: (Connection) throws -> (T, [JobChange])) throws -> T {
        let (result, changes) = try translated { try database.write(body) }
        self.changes.post(changes)
        return result
    }

    func write<T>(_ body: (Connection) throws -> T) throws -> T {
        try translated { try database.write(body) }
    }

    func read<T>(_ body: (Connection) throws -> T) throws -> T {
        try translated { try database.read(body) }
    }

    /// SQLite failures that say "not now" rather than "wrong" become `.unavailable`, which callers can wait out.
    private func translated<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError where error.isTransient {
            throw StoreError.unavailable(error.message)
        }
    }
}
