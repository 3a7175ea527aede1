/// One reply value. RESP3-only types are folded into these cases by `RESPDecoder`,
/// so callers handle a single shape whatever protocol version the server speaks.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    /// An error reply; `RedisConnection.command` throws it as `RedisError` instead.
    case error(String)
    case integer(Int64)
    case bulkString([UInt8])
    /// Null bulk string, null array, or RESP3 null.
    case null
    case array([RESPValue])
}

extension RESPValue {
    /// Simple or bulk string as UTF-8; invalid sequences are replaced rather than rejected.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// Integer reply, or a string reply holding a decimal integer (e.g. a `GET` of a counter).
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .simpleString(let text): Int64(text)
        case .bulkString(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    /// Bulk string payload, or the UTF-8 of a simple string.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }
}
