import CSQLite

/// A prepared statement. Owned by the connection that made it and only used while its lock is held,
/// which is why it is deliberately not Sendable.
public final class Statement {
    private let handle: OpaquePointer
    private let connection: OpaquePointer
    public let sql: String

    init(connection: OpaquePointer, sql: String) throws(SQLiteError) {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(connection, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw Connection.error(connection, code: rc, sql: sql)
        }
        self.handle = statement
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    func bind(_ parameters: [any SQLiteBindable]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard expected == parameters.count else {
            throw SQLiteError(code: SQLITE_RANGE, message: "expected \(expected) parameters, got \(parameters.count)", sql: sql)
        }
        for (offset, parameter) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch parameter.sqliteValue {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .integer(let value): rc = sqlite3_bind_int64(handle, index, value)
            case .real(let value): rc = sqlite3_bind_double(handle, index, value)
            case .text(let value): rc = sqlite3_bind_text(handle, index, value, -1, Statement.transient)
            case .blob(let value):
                rc = value.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Statement.transient) }
            }
            guard rc == SQLITE_OK else { throw Connection.error(connection, code: rc, sql: sql) }
        }
    }

    /// Runs the statement to completion, collecting every row.
    func rows() throws(SQLiteError) -> [Row] {
        defer { sqlite3_reset(handle) }
        let count = sqlite3_column_count(handle)
        let names = (0..<count).map { String(cString: sqlite3_column_name(handle, $0)) }
        var result: [Row] = []
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { return result }
            guard rc == SQLITE_ROW else { throw Connection.error(connection, code: rc, sql: sql) }
            result.append(Row(columns: names, values: (0..<count).map(column)))
        }
    }

    private func column(_ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(handle, index)))
        case SQLITE_BLOB:
            let length = Int(sqlite3_column_bytes(handle, index))
            guard length > 0, let base = sqlite3_column_blob(handle, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: length)))
        default: return .null
        }
    }

    // SQLITE_TRANSIENT: SQLite copies the bound bytes, so Swift's temporary buffers may go away.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
