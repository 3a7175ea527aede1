import EmbeddedResources
import SQLite

/// The service's records in SQLite. Thread-safe: every call goes through the database's lock.
public final class Store: Sendable {
    public let database: Database

    /// Opens the store and applies the migrations compiled into the binary; refuses a newer schema.
    public init(database: Database) throws {
        self.database = database
        try Migrator(Store.migrations()).migrate(database)
    }

    public convenience init(path: String) throws {
        try self.init(database: try Database(path: path))
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
}
