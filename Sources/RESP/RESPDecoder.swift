/// Incremental RESP2/RESP3 decoder that owns its input buffer.
///
/// Feed bytes as they arrive with `append(_:)`, then call `next()` until it returns nil
/// (meaning: no complete value buffered yet). Partially received arrays are kept as
/// parse state, so each call only looks at new bytes: a large reply arriving in many
/// small reads costs linear, not quadratic, time. After `next()` throws, the stream is
/// out of sync and the decoder must be discarded.
///
/// RESP3 types are folded into `RESPValue`: map -> array of alternating keys and values,
/// set/push -> array, boolean -> integer 0/1, double/big number -> bulk string of the text,
/// verbatim string -> bulk string of the content without its format prefix,
/// blob error -> error; attributes are skipped.
public struct RESPDecoder {
    public let maxDepth: Int
    public let maxBulkLength: Int

    private(set) var buffer: [UInt8] = []
    /// Bytes before `cursor` are fully parsed (either returned or held in `stack`).
    private(set) var cursor = 0
    /// Containers whose elements are still arriving, outermost first.
    private var stack: [Frame] = []

    private struct Frame {
        var remaining: Int
        var isAttribute: Bool
        var elements: [RESPValue]
    }

    private enum Item {
        case value(RESPValue)
        case container(count: Int, isAttribute: Bool)
    }

    /// Simple lines (status, error, numbers) are short; a line this long without CRLF
    /// means a broken or hostile peer rather than data worth buffering.
    private static let maxLineLength = 1 << 20
    /// Bounds memory reserved up front for a declared container size the peer may never send.
    private static let maxReservedElements = 4096

    /// `maxBulkLength` defaults to Redis' own `proto-max-bulk-len` (512 MiB).
    public init(maxDepth: Int = 64, maxBulkLength: Int = 512 << 20) {
        self.maxDepth = maxDepth
        self.maxBulkLength = maxBulkLength
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete value, or nil if more bytes are needed.
    public mutating func next() throws(RESPProtocolError) -> RESPValue? {
        while let item = try parseItem() {
            var completed: RESPValue?
            switch item {
            case .value(let value):
                completed = value
            case .container(let count, let isAttribute):
                guard stack.count < maxDepth else {
                    throw RESPProtocolError("nesting deeper than \(maxDepth)")
                }
                var elements: [RESPValue] = []
                elements.reserveCapacity(min(count, Self.maxReservedElements))
                stack.append(Frame(remaining: count, isAttribute: isAttribute, elements: elements))
            }
            // Hand the finished value to its container; finishing that may finish its parent.
            while !stack.isEmpty {
                let top = stack.count - 1
                if let value = completed {
                    stack[top].elements.append(value)
                    stack[top].remaining -= 1
                    completed = nil
                }
                guard stack[top].remaining == 0 else { break }
                let frame = stack.removeLast()
                if !frame.isAttribute {
                    completed = .array(frame.elements)
                }
            }
            if stack.isEmpty, let value = completed {
                return value
            }
        }
        return nil
    }

    /// Drops consumed bytes once they dominate the buffer, keeping compaction amortised O(1) per byte.
    private mutating func compact() {
        if cursor == buffer.count {
            // Let go of the memory of a huge reply instead of pinning it for the connection's lifetime.
            if buffer.capacity > 1 << 20 {
                buffer = []
            } else {
                buffer.removeAll(keepingCapacity: true)
            }
            cursor = 0
        } else if cursor >= 1 << 16 && cursor >= buffer.count / 2 {
            buffer.removeSubrange(0..<cursor)
            cursor = 0
        }
    }

    /// Parses one scalar or container header at `cursor`, advancing past it only when complete.
    private mutating func parseItem() throws(RESPProtocolError) -> Item? {
        guard cursor < buffer.count else { return nil }
        let type = buffer[cursor]
        guard let lineEnd = try findLineEnd(from: cursor + 1) else {
            // Reject garbage at once rather than buffering it while waiting for a CRLF.
            guard Self.typeBytes.contains(type) else { throw Self.invalidType(type) }
            return nil
        }
        let line = (cursor + 1)..<lineEnd
        let next = lineEnd + 2
        let item: Item
        switch type {
        case UInt8(ascii: "+"):
            item = .value(.simpleString(text(line)))
        case UInt8(ascii: "-"):
            item = .value(.error(text(line)))
        case UInt8(ascii: ":"):
            item = .value(.integer(try parseInteger(line)))
        case UInt8(ascii: "_"):
            item = .value(.null)
        case UInt8(ascii: "#"):
            switch buffer[line].first {
            case UInt8(ascii: "t") where line.count == 1: item = .value(.integer(1))
            case UInt8(ascii: "f") where line.count == 1: item = .value(.integer(0))
            default: throw RESPProtocolError("invalid boolean '\(text(line))'")
            }
        case UInt8(ascii: ","), UInt8(ascii: "("):
            item = .value(.bulkString(Array(buffer[line])))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            let length = try parseLength(line)
            if length < 0 {
                cursor = next
                return .value(.null)
            }
            guard length <= maxBulkLength else {
                throw RESPProtocolError("bulk length \(length) exceeds limit \(maxBulkLength)")
            }
            guard buffer.count - next >= length + 2 else { return nil }
            guard buffer[next + length] == 13, buffer[next + length + 1] == 10 else {
                throw RESPProtocolError("bulk string not terminated by CRLF")
            }
            var payload = next..<(next + length)
            cursor = next + length + 2
            switch type {
            case UInt8(ascii: "!"):
                return .value(.error(text(payload)))
            case UInt8(ascii: "="):
                // Verbatim strings start with a three-letter format such as "txt:".
                if payload.count >= 4, buffer[payload.lowerBound + 3] == UInt8(ascii: ":") {
                    payload = (payload.lowerBound + 4)..<payload.upperBound
                }
                return .value(.bulkString(Array(buffer[payload])))
            default:
                return .value(.bulkString(Array(buffer[payload])))
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let count = try parseLength(line)
            if count < 0 {
                item = .value(.null)
            } else {
                let pairs = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
                item = .container(count: pairs ? count * 2 : count, isAttribute: type == UInt8(ascii: "|"))
            }
        default:
            throw Self.invalidType(type)
        }
        cursor = next
        return item
    }

    private static let typeBytes = Array("+-:_#,($!=*~>%|".utf8)

    private static func invalidType(_ type: UInt8) -> RESPProtocolError {
        RESPProtocolError("invalid type byte 0x\(String(type, radix: 16))")
    }

    /// Index of the CR of the first CRLF at or after `start`, or nil if not yet received.
    private func findLineEnd(from start: Int) throws(RESPProtocolError) -> Int? {
        var index = start
        while index < buffer.count {
            if buffer[index] == 13 {
                guard index + 1 < buffer.count else { return nil }
                guard buffer[index + 1] == 10 else { throw RESPProtocolError("CR not followed by LF") }
                return index
            }
            index += 1
        }
        guard buffer.count - start <= Self.maxLineLength else {
            throw RESPProtocolError("line longer than \(Self.maxLineLength) bytes")
        }
        return nil
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: buffer[range], as: UTF8.self)
    }

    /// A length or count: -1 means null; any other negative value is invalid.
    private func parseLength(_ range: Range<Int>) throws(RESPProtocolError) -> Int {
        let value = try parseInteger(range)
        guard value >= -1, value <= Int64(Int32.max) else {
            throw RESPProtocolError("invalid length \(value)")
        }
        return Int(value)
    }

    private func parseInteger(_ range: Range<Int>) throws(RESPProtocolError) -> Int64 {
        var digits = range
        let negative = buffer[range].first == UInt8(ascii: "-")
        if negative || buffer[range].first == UInt8(ascii: "+") {
            digits = (range.lowerBound + 1)..<range.upperBound
        }
        guard !digits.isEmpty else { throw RESPProtocolError("invalid integer '\(text(range))'") }
        var value: Int64 = 0
        for byte in buffer[digits] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw RESPProtocolError("invalid integer '\(text(range))'")
            }
            let digit = Int64(byte - UInt8(ascii: "0"))
            // Accumulate negatively so Int64.min parses without overflow.
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.subtractingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw RESPProtocolError("integer out of range '\(text(range))'") }
            value = sum
        }
        if negative { return value }
        guard value != Int64.min else { throw RESPProtocolError("integer out of range '\(text(range))'") }
        return -value
    }
}
