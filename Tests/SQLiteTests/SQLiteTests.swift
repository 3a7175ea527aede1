import Foundation
import SQLite
import Testing

@Suite struct SQLiteTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-test-\(UUID().uuidString)/db.sqlite").path
    }

    @Test func opensWithWALForeignKeysAndCreatesDirectories() throws {
        let path = temporaryPath()
        let database = try Database(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        let pragmas = try database.read { db in
            try ["journal_mode", "foreign_keys", "synchronous", "busy_timeout"].map { try db.query("PRAGMA \($0)").first?[0] }
        }
        #expect(pragmas == [.text("wal"), .integer(1), .integer(1), .integer(5000)])  // synchronous 1 = NORMAL
    }

    @Test func bindsAndReadsEveryType() throws {
        let database = try Database(path: temporaryPath())
        try database.write { db in
            try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
            try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", 42, 2.5, "héllo ☃", SQLiteValue.blob([0, 1, 255]), String?.none)
        }
        let row = try database.read { db in try db.query("SELECT * FROM t").first }
        #expect(row?.int("i") == 42)
        #expect(row?.double("r") == 2.5)
        #expect(row?.string("s") == "héllo ☃")
        #expect(row?["b"] == .blob([0, 1, 255]))
        #expect(row?["n"] == .null)
        #expect(row?["missing"] == .null)
    }

    @Test func wrongParameterCountIsATypedError() throws {
        let database = try Database(path: temporaryPath())
        #expect(throws: SQLiteError.self) {
            try database.read { db in try db.execute("SELECT ?, ?", 1) }
        }
    }

    @Test func syntaxErrorKeepsCodeMessageAndSQL() throws {
        let database = try Database(path: temporaryPath())
        do {
            try database.read { db in try db.execute("SELEKT 1") }
            Issue.record("expected an error")
        } catch let error as SQLiteError {
            #expect(error.code == 1)
            #expect(error.message.contains("syntax error"))
            #expect(error.sql == "SELEKT 1")
        }
    }

    @Test func transactionRollsBackOnThrow() throws {
        let database = try Database(path: temporaryPath())
        try database.write { db in try db.execute("CREATE TABLE t (v INTEGER)") }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try database.write { db in
                try db.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        try database.write { db in try db.execute("INSERT INTO t VALUES (2)") }
        let values = try database.read { db in try db.query("SELECT v FROM t").map { $0.int("v") } }
        #expect(values == [2])
    }

    @Test func constraintViolationIsReported() throws {
        let database = try Database(path: temporaryPath())
        try database.write { db in
            try db.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
            try db.execute("CREATE TABLE c (p INTEGER REFERENCES p(id))")
        }
        do {
            try database.write { db in try db.execute("INSERT INTO c VALUES (7)") }
            Issue.record("foreign key not enforced")
        } catch let error as SQLiteError {
            #expect(error.isConstraintViolation)
        }
    }

    @Test func migratorAppliesInOrderOnceAndRecordsVersions() throws {
        let path = temporaryPath()
        let migrations = [
            Migration(version: 2, name: "0002_more", sql: "ALTER TABLE a ADD COLUMN y TEXT;"),
            Migration(version: 1, name: "0001_init", sql: "CREATE TABLE a (x INTEGER); CREATE INDEX ax ON a (x);"),
        ]
        let migrator = try Migrator(migrations)
        #expect(try migrator.migrate(try Database(path: path)) == [1, 2])
        let reopened = try Database(path: path)
        #expect(try migrator.migrate(reopened) == [])
        #expect(try migrator.currentVersion(reopened) == 2)
        try reopened.write { db in try db.execute("INSERT INTO a (x, y) VALUES (1, 'ok')") }
    }

    @Test func failedMigrationLeavesNoTrace() throws {
        let path = temporaryPath()
        let migrator = try Migrator([
            Migration(version: 1, name: "0001_init", sql: "CREATE TABLE a (x INTEGER);"),
            Migration(version: 2, name: "0002_bad", sql: "CREATE TABLE b (x INTEGER); THIS IS NOT SQL;"),
        ])
        let database = try Database(path: path)
        #expect(throws: SQLiteError.self) { try migrator.migrate(database) }
        #expect(try migrator.currentVersion(database) == 1)
        let tables = try database.read { db in try db.query("SELECT name FROM sqlite_master WHERE type='table'").compactMap { $0.string("name") } }
        #expect(tables.contains("a"))
        #expect(!tables.contains("b"))
    }

    @Test func refusesSchemaNewerThanKnown() throws {
        let path = temporaryPath()
        try Migrator([Migration(version: 1, name: "a", sql: "CREATE TABLE a (x);"),
                      Migration(version: 2, name: "b", sql: "CREATE TABLE b (x);")]).migrate(try Database(path: path))
        let older = try Migrator([Migration(version: 1, name: "a", sql: "CREATE TABLE a (x);")])
        #expect(throws: Migrator.Failure.schemaNewerThanKnown(databaseVersion: 2, knownVersion: 1)) {
            try older.migrate(try Database(path: path))
        }
    }

    @Test func duplicateVersionsAreRejected() {
        #expect(throws: Migrator.Failure.duplicateVersion(1)) {
            try Migrator([Migration(version: 1, name: "a", sql: ""), Migration(version: 1, name: "b", sql: "")])
        }
    }
}
