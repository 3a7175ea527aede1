/// Applies numbered migrations, each in one IMMEDIATE transaction together with its bookkeeping row.
public struct Migrator: Sendable {
    public enum Failure: Error, Sendable, CustomStringConvertible, Equatable {
        /// The database was written by a newer build: running on it could corrupt data.
        case schemaNewerThanKnown(databaseVersion: Int, knownVersion: Int)
        case duplicateVersion(Int)

        public var description: String {
            switch self {
            case .schemaNewerThanKnown(let database, let known):
                return "database schema version \(database) is newer than this build knows (\(known)); refusing to start"
            case .duplicateVersion(let version):
                return "two migrations share version \(version)"
            }
        }
    }

    public let migrations: [Migration]

    public init(_ migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw Failure.duplicateVersion(a.version)
        }
        self.migrations = sorted
    }

    /// Brings `database` up to the newest known version; returns the versions applied.
    @discardableResult
    public func migrate(_ database: Database) throws -> [Int] {
        try database.write { db in
            try db.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )
                """)
        }
        let current = try currentVersion(database)
        let known = migrations.last?.version ?? 0
        if current > known {
            throw Failure.schemaNewerThanKnown(databaseVersion: current, knownVersion: known)
        }
        var applied: [Int] = []
        for migration in migrations where migration.version > current {
            try database.write { db in
                try db.executeScript(migration.sql)
                try db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                               migration.version, migration.name)
            }
            applied.append(migration.version)
        }
        return applied
    }

    public func currentVersion(_ database: Database) throws -> Int {
        try database.read { db in
            Int(try db.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").first?.int("v") ?? 0)
        }
    }
}
