/// The cluster's shape as one short value, for `ETag` / `If-Match`: node ids, roles (and whom replicas follow),
/// slot owners and config epochs. Keys, link states and failure flags are left out: they change without anyone
/// changing the cluster, and a plan does not depend on them.
public enum TopologyDigest {
    public static func etag(_ topology: ClusterTopology) -> String {
        var text = ""
        for node in topology.nodes.sorted(by: { $0.id < $1.id }) {
            text += "\(node.id) \(node.isMaster ? "master" : "replica:\(node.masterId ?? "-")") \(node.configEpoch) \(node.slots.description)\n"
        }
        // Two FNV-1a 64-bit hashes with different offsets: 128 bits, ample to tell layouts apart.
        func fnv(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100000001b3
            }
            return hash
        }
        let high = fnv(0xcbf29ce484222325), low = fnv(0x84222325cbf29ce4)
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Whether an `If-Match` header value admits the current `etag`: `*`, or any listed tag, quoted or not, weak or not.
    public static func matches(_ header: String, etag: String) -> Bool {
        header.split(separator: ",").contains { item in
            var tag = String(item.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count >= 2 { tag = String(tag.dropFirst().dropLast()) }
            return tag == etag
        }
    }
}
