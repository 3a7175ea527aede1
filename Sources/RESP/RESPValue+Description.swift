extension RESPValue: CustomStringConvertible {
    /// Close to redis-cli's rendering, on one line, for logs and test failures.
    public var description: String {
        switch self {
        case .simpleString(let text): text
        case .error(let text): "(error) \(text)"
        case .integer(let value): "(integer) \(value)"
        case .bulkString(let bytes): "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .null: "(nil)"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
