import CSQLite

/// One open libsqlite3 connection. The handle is owned by the `Database` that made it and is only touched
/// while that database's lock is held, which is why this type is deliberately not Sendable.
public final class Connection {
    private let handle: OpaquePointer
    private var statements: [String: Statement] = [:]

    init(path: String) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message) (\(path))")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one statement with parameters, discarding rows.
    public func execute(_ sql: String, _ parameters: any SQLiteBindable...) throws(SQLiteError) {
        _ = try query(sql, parameters)
    }

    public func query(_ sql: String, _ parameters: any SQLiteBindable...) throws(SQLiteError) -> [Row] {
        try query(sql, parameters)
    }

    public func query(_ sql: String, _ parameters: [any SQLiteBindable]) throws(SQLiteError) -> [Row] {
        let statement = try prepared(sql)
        try statement.bind(parameters)
        return try statement.rows()
    }

    /// Runs a script of several statements without parameters (migrations).
    public func executeScript(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: rc & 0xff, extendedCode: rc, message: text, sql: sql)
        }
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in a BEGIN IMMEDIATE transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try executeScript("BEGIN IMMEDIATE")
        do {
            let result = try body(self)
            try executeScript("COMMIT")
            return result
        } catch {
            try? executeScript("ROLLBACK")
            throw error
        }
    }

    private func prepared(_ sql: String) throws(SQLiteError) -> Statement {
        if let statement = statements[sql] { return statement }
        let statement = try Statement(connection: handle, sql: sql)
        statements[sql] = statement
        return statement
    }

    static func error(_ db: OpaquePointer, code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: code & 0xff, extendedCode: sqlite3_extended_errcode(db),
                    message: String(cString: sqlite3_errmsg(db)), sql: sql)
    }
}
