/// Parses the text reply of `CLUSTER NODES` (Redis 3 through 7 / Valkey formats).
public enum ClusterNodesParser {
    public static func parse(_ text: String) throws(ClusterModelError) -> [ClusterNodeEntry] {
        var entries: [ClusterNodeEntry] = []
        // Bytes, not Characters: a 90-node cluster answers 90 views of 90 lines, and grapheme breaking would
        // dominate reading its topology. Lines end in LF, possibly preceded by CR (stripped with other blanks).
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n")) {
            let line = rawLine.trimmingBlanks()
            if line.isEmpty { continue }
            entries.append(try parseLine(line))
        }
        return entries
    }

    private static func parseLine(_ bytes: Substring.UTF8View) throws(ClusterModelError) -> ClusterNodeEntry {
        let line = String(Substring(bytes))
        func fail(_ reason: String) -> ClusterModelError {
            .malformedNodesLine(line: line, reason: reason)
        }
        let fields = bytes.split(separator: UInt8(ascii: " ")).map { String(Substring($0)) }
        guard fields.count >= 8 else { throw fail("expected at least 8 fields, got \(fields.count)") }
        let id = fields[0]
        guard isNodeId(id) else { throw fail("node id is not 40 hex characters") }
        guard let address = parseAddress(fields[1]) else { throw fail("bad address \(fields[1])") }
        let flags = fields[2] == "noflags" ? [] : fields[2].split(separator: ",").map(String.init)
        let masterId: String?
        if fields[3] == "-" {
            masterId = nil
        } else if isNodeId(fields[3]) {
            masterId = fields[3]
        } else {
            throw fail("master id is neither - nor 40 hex characters")
        }
        guard let pingSent = Int64(fields[4]), let pongReceived = Int64(fields[5]) else {
            throw fail("ping/pong times are not integers")
        }
        guard let configEpoch = Int64(fields[6]) else { throw fail("config epoch is not an integer") }
        let linkState = fields[7]
        guard linkState == "connected" || linkState == "disconnected" else {
            throw fail("link state \(linkState) is neither connected nor disconnected")
        }
        var ranges: [ClosedRange<Int>] = []
        var importing: [Int: String] = [:]
        var migrating: [Int: String] = [:]
        for token in fields.dropFirst(8) {
            if token.hasPrefix("[") {
                guard token.hasSuffix("]") else { throw fail("unterminated open slot \(token)") }
                let body = String(token.dropFirst().dropLast())
                if let (slot, peer) = splitOpenSlot(body, marker: "->-") {
                    migrating[slot] = peer
                } else if let (slot, peer) = splitOpenSlot(body, marker: "-<-") {
                    importing[slot] = peer
                } else {
                    throw fail("bad open slot \(token)")
                }
            } else {
                guard let range = parseSlotRange(token) else { throw fail("bad slot \(token)") }
                ranges.append(range)
            }
        }
        return ClusterNodeEntry(
            id: id, host: address.host, port: address.port, busPort: address.busPort, hostname: address.hostname,
            flags: flags, masterId: masterId, pingSent: pingSent, pongReceived: pongReceived,
            configEpoch: configEpoch, linkState: linkState, slots: SlotSet(ranges: ranges),
            importing: importing, migrating: migrating)
    }

    private static func isNodeId(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
    }

    private struct Address {
        var host: String
        var port: Int
        var busPort: Int?
        var hostname: String?
    }

    /// `ip:port@cport[,hostname]`, `ip:port` (Redis 3), `:0@0` (noaddr); IPv6 hosts are split at the last colon.
    private static func parseAddress(_ field: String) -> Address? {
        var rest = Substring(field)
        var hostname: String?
        if let comma = rest.firstIndex(of: ",") {
            let name = rest[rest.index(after: comma)...]
            hostname = name.isEmpty ? nil : String(name)
            rest = rest[..<comma]
        }
        var busPort: Int?
        if let at = rest.firstIndex(of: "@") {
            guard let bus = validPort(rest[rest.index(after: at)...]) else { return nil }
            busPort = bus
            rest = rest[..<at]
        }
        guard let colon = rest.lastIndex(of: ":"), let port = validPort(rest[rest.index(after: colon)...]) else {
            return nil
        }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        }
        return Address(host: String(host), port: port, busPort: busPort, hostname: hostname)
    }

    private static func validPort(_ text: Substring) -> Int? {
        guard let port = Int(text), (0...65535).contains(port) else { return nil }
        return port
    }

    private static func parseSlot(_ text: Substring) -> Int? {
        guard let slot = Int(text), (0..<HashSlot.count).contains(slot) else { return nil }
        return slot
    }

    private static func parseSlotRange(_ token: String) -> ClosedRange<Int>? {
        let parts = token.split(separator: "-", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return parseSlot(parts[0]).map { $0...$0 }
        case 2:
            guard let start = parseSlot(parts[0]), let end = parseSlot(parts[1]), start <= end else { return nil }
            return start...end
        default:
            return nil
        }
    }

    /// Splits `5461->-<id>` / `5461-<-<id>` at the marker.
    private static func splitOpenSlot(_ body: String, marker: String) -> (Int, String)? {
        let chars = Array(body)
        let pattern = Array(marker)
        guard chars.count > pattern.count else { return nil }
        for start in 0...(chars.count - pattern.count) where Array(chars[start..<(start + pattern.count)]) == pattern {
            let peer = String(chars[(start + pattern.count)...])
            guard let slot = parseSlot(Substring(String(chars[..<start]))), isNodeId(peer) else { return nil }
            return (slot, peer)
        }
        return nil
    }
}

private extension Substring.UTF8View {
    /// Strips spaces, tabs and the `\r` of CRLF replies without needing Foundation.
    func trimmingBlanks() -> Substring.UTF8View {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") }
        guard let start = firstIndex(where: { !isBlank($0) }), let end = lastIndex(where: { !isBlank($0) }) else {
            return self[startIndex..<startIndex]
        }
        return self[start...end]
    }
}
