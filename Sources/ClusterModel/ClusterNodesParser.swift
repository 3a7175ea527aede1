/// Parses the text reply of `CLUSTER NODES` (Redis 3 through 7 / Valkey formats).
public enum ClusterNodesParser {
    public static func parse(_ text: String) throws(ClusterModelError) -> [ClusterNodeEntry] {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(ClusterModelError) in try parse(bytes) } }.get()
    }

    /// The reply's bytes as they came off the wire, so no String of the whole reply is made first.
    public static func parse(_ bytes: [UInt8]) throws(ClusterModelError) -> [ClusterNodeEntry] {
        try bytes.withUnsafeBufferPointer { buffer throws(ClusterModelError) in try parse(buffer) }
    }

    // Bytes, not Characters, and no String per field: a 90-node cluster answers 90 views of 90 lines, and reading
    // its topology is mostly this loop. Only the values an entry keeps become Strings.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ClusterModelError) -> [ClusterNodeEntry] {
        var entries: [ClusterNodeEntry] = []
        var fields: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != newline { end += 1 }
            // Lines end in LF, possibly preceded by CR (stripped with other blanks).
            var (low, high) = (start, end)
            while low < high, isBlank(bytes[low]) { low += 1 }
            while high > low, isBlank(bytes[high - 1]) { high -= 1 }
            if low < high {
                entries.append(try parseLine(bytes, low..<high, fields: &fields))
            }
            start = end + 1
        }
        return entries
    }

    private static func parseLine(
        _ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, fields: inout [Range<Int>]
    ) throws(ClusterModelError) -> ClusterNodeEntry {
        // The line is quoted only when it is rejected.
        func fail(_ reason: String) -> ClusterModelError {
            .malformedNodesLine(line: string(bytes, line), reason: reason)
        }
        fields.removeAll(keepingCapacity: true)
        var index = line.lowerBound
        while index < line.upperBound {
            while index < line.upperBound, bytes[index] == space { index += 1 }
            let fieldStart = index
            while index < line.upperBound, bytes[index] != space { index += 1 }
            if fieldStart < index { fields.append(fieldStart..<index) }
        }
        guard fields.count >= 8 else { throw fail("expected at least 8 fields, got \(fields.count)") }
        guard isNodeId(bytes, fields[0]) else { throw fail("node id is not 40 hex characters") }
        guard let address = parseAddress(bytes, fields[1]) else {
            throw fail("bad address \(string(bytes, fields[1]))")
        }
        let flags = parseFlags(bytes, fields[2])
        let masterId: String?
        if equals(bytes, fields[3], "-") {
            masterId = nil
        } else if isNodeId(bytes, fields[3]) {
            masterId = string(bytes, fields[3])
        } else {
            throw fail("master id is neither - nor 40 hex characters")
        }
        guard let pingSent = integer(bytes, fields[4]), let pongReceived = integer(bytes, fields[5]) else {
            throw fail("ping/pong times are not integers")
        }
        guard let configEpoch = integer(bytes, fields[6]) else { throw fail("config epoch is not an integer") }
        let linkState: String
        if equals(bytes, fields[7], "connected") {
            linkState = "connected"
        } else if equals(bytes, fields[7], "disconnected") {
            linkState = "disconnected"
        } else {
            throw fail("link state \(string(bytes, fields[7])) is neither connected nor disconnected")
        }
        var ranges: [ClosedRange<Int>] = []
        var importing: [Int: String] = [:]
        var migrating: [Int: String] = [:]
        for token in fields.dropFirst(8) {
            if bytes[token.lowerBound] == UInt8(ascii: "[") {
                guard token.count >= 2, bytes[token.upperBound - 1] == UInt8(ascii: "]") else {
                    throw fail("unterminated open slot \(string(bytes, token))")
                }
                guard let (slot, isMigrating, peer) = parseOpenSlot(bytes, token.dropFirst().dropLast()) else {
                    throw fail("bad open slot \(string(bytes, token))")
                }
                if isMigrating {
                    migrating[slot] = peer
                } else {
                    importing[slot] = peer
                }
            } else {
                guard let range = parseSlotRange(bytes, token) else { throw fail("bad slot \(string(bytes, token))") }
                ranges.append(range)
            }
        }
        return ClusterNodeEntry(
            id: string(bytes, fields[0]), host: address.host, port: address.port, busPort: address.busPort,
            hostname: address.hostname, flags: flags, masterId: masterId, pingSent: pingSent,
            pongReceived: pongReceived, configEpoch: configEpoch, linkState: linkState,
            slots: SlotSet(ranges: ranges), importing: importing, migrating: migrating)
    }

    private static let newline = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")

    /// Spaces, tabs and the `\r` of CRLF replies.
    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == space || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        let expected = word.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != expected[offset] {
            return false
        }
        return true
    }

    private static func isNodeId(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        range.count == 40 && range.allSatisfy { index in
            let byte = bytes[index]
            return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
    }

    /// `myself,master`; `noflags` means none.
    private static func parseFlags(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [String] {
        if equals(bytes, range, "noflags") { return [] }
        var flags: [String] = []
        var start = range.lowerBound
        for index in range where bytes[index] == UInt8(ascii: ",") {
            if start < index { flags.append(string(bytes, start..<index)) }
            start = index + 1
        }
        if start < range.upperBound { flags.append(string(bytes, start..<range.upperBound)) }
        return flags
    }

    /// A decimal integer with an optional sign, as `Int64(_:)` reads it; nil if empty, not decimal or too large.
    private static func integer(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
        var index = range.lowerBound
        var negative = false
        if index < range.upperBound, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        guard index < range.upperBound else { return nil }
        var value: Int64 = 0
        while index < range.upperBound {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowedAgain) = negative
                ? shifted.subtractingReportingOverflow(Int64(digit))
                : shifted.addingReportingOverflow(Int64(digit))
            guard !overflowed, !overflowedAgain else { return nil }
            value = sum
            index += 1
        }
        return value
    }

    private static func bounded(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ limits: ClosedRange<Int64>
    ) -> Int? {
        guard let value = integer(bytes, range), limits.contains(value) else { return nil }
        return Int(value)
    }

    private static func port(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        bounded(bytes, range, 0...65535)
    }

    private static func slot(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        bounded(bytes, range, 0...Int64(HashSlot.count - 1))
    }

    private struct Address {
        var host: String
        var port: Int
        var busPort: Int?
        var hostname: String?
    }

    /// `ip:port@cport[,hostname]`, `ip:port` (Redis 3), `:0@0` (noaddr); IPv6 hosts are split at the last colon.
    private static func parseAddress(_ bytes: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) -> Address? {
        var rest = field
        var hostname: String?
        if let comma = rest.first(where: { bytes[$0] == UInt8(ascii: ",") }) {
            hostname = comma + 1 < rest.upperBound ? string(bytes, (comma + 1)..<rest.upperBound) : nil
            rest = rest.lowerBound..<comma
        }
        var busPort: Int?
        if let at = rest.first(where: { bytes[$0] == UInt8(ascii: "@") }) {
            guard let bus = port(bytes, (at + 1)..<rest.upperBound) else { return nil }
            busPort = bus
            rest = rest.lowerBound..<at
        }
        guard let colon = rest.last(where: { bytes[$0] == UInt8(ascii: ":") }),
              let port = port(bytes, (colon + 1)..<rest.upperBound) else {
            return nil
        }
        var host = rest.lowerBound..<colon
        if host.count >= 2, bytes[host.lowerBound] == UInt8(ascii: "["), bytes[host.upperBound - 1] == UInt8(ascii: "]") {
            host = (host.lowerBound + 1)..<(host.upperBound - 1)
        }
        return Address(host: string(bytes, host), port: port, busPort: busPort, hostname: hostname)
    }

    /// `5461` or `0-5460`.
    private static func parseSlotRange(_ bytes: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> ClosedRange<Int>? {
        guard let dash = token.first(where: { bytes[$0] == UInt8(ascii: "-") }) else {
            return slot(bytes, token).map { $0...$0 }
        }
        guard let start = slot(bytes, token.lowerBound..<dash), let end = slot(bytes, (dash + 1)..<token.upperBound),
              start <= end else {
            return nil
        }
        return start...end
    }

    /// The inside of `[5461->-<id>]` (migrating to) or `[5461-<-<id>]` (importing from).
    private static func parseOpenSlot(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: Range<Int>
    ) -> (slot: Int, isMigrating: Bool, peer: String)? {
        guard let dash = body.first(where: { bytes[$0] == UInt8(ascii: "-") }), dash + 3 <= body.upperBound,
              bytes[dash + 2] == UInt8(ascii: "-") else {
            return nil
        }
        let isMigrating: Bool
        switch bytes[dash + 1] {
        case UInt8(ascii: ">"): isMigrating = true
        case UInt8(ascii: "<"): isMigrating = false
        default: return nil
        }
        let peer = (dash + 3)..<body.upperBound
        guard let slot = slot(bytes, body.lowerBound..<dash), isNodeId(bytes, peer) else { return nil }
        return (slot, isMigrating, string(bytes, peer))
    }
}
