/// One result row, columns by name or index.
public struct Row: Sendable {
    public let columns: [String]
    public let values: [SQLiteValue]

    public subscript(_ index: Int) -> SQLiteValue { values[index] }

    public subscript(_ name: String) -> SQLiteValue {
        guard let index = columns.firstIndex(of: name) else { return .null }
        return values[index]
    }

    public func int(_ name: String) -> Int64? { self[name].int }
    public func string(_ name: String) -> String? { self[name].string }
    public func double(_ name: String) -> Double? { self[name].double }
}
