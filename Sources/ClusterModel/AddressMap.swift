import Glibc

/// Where the service dials a node that announces an address it cannot reach (NAT: Docker bridge or Swarm overlay
/// networks, port mappings). `nodes` maps an announced `host:port` exactly to a reachable `host:port`; each rule
/// maps every announced IP inside `announced` (a CIDR) to the host `reachable`, at the announced port plus
/// `portOffset`. Exact entries win over rules; the first matching rule wins. Addresses nothing matches are dialled
/// as they are. Hosts are kept lower-case, so the keys read the same in any JSON dialect.
public struct AddressMap: Sendable, Equatable, Codable {
    public struct Rule: Sendable, Equatable, Codable {
        /// `a.b.c.d/n` or an IPv6 prefix `x::/n`.
        public var announced: String
        /// A host name or IP address, without port (IPv6 without brackets).
        public var reachable: String
        public var portOffset: Int

        public init(announced: String, reachable: String, portOffset: Int = 0) {
            self.announced = announced
            self.reachable = reachable.lowercased()
            self.portOffset = portOffset
        }

        private enum CodingKeys: String, CodingKey {
            case announced, reachable
            case portOffset = "port_offset"
        }

        /// The network and prefix length of `announced`, when it is a valid CIDR.
        public var network: (bytes: [UInt8], prefix: Int)? {
            let parts = announced.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let bytes = AddressMap.ipBytes(String(parts[0])),
                  parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), (1...3).contains(parts[1].count),
                  let prefix = Int(parts[1]), prefix <= bytes.count * 8 else { return nil }
            return (bytes, prefix)
        }

        /// The reachable address of `host:port`, when `host` is an IP inside `announced` and the shifted port is valid.
        func map(host: String, port: Int) -> (host: String, port: Int)? {
            guard let (network, prefix) = network, let bytes = AddressMap.ipBytes(host), bytes.count == network.count,
                  (1...65535).contains(port + portOffset) else { return nil }
            for bit in 0..<prefix {
                let mask = UInt8(0x80) >> UInt8(bit % 8)
                if bytes[bit / 8] & mask != network[bit / 8] & mask { return nil }
            }
            return (reachable, port + portOffset)
        }
    }

    /// Announced `host:port` → reachable `host:port`.
    public var nodes: [String: String]
    public var rules: [Rule]

    public init(nodes: [String: String] = [:], rules: [Rule] = []) {
        self.nodes = Dictionary(nodes.map { (AddressMap.normalized($0.key), AddressMap.normalized($0.value)) },
                                uniquingKeysWith: { first, _ in first })
        self.rules = rules
    }

    public var isEmpty: Bool { nodes.isEmpty && rules.isEmpty }

    /// Where the service dials the node announced at `host:port`; nil when the map does not cover it.
    public func reachable(host: String, port: Int) -> (host: String, port: Int)? {
        if let exact = nodes[AddressMap.join(host.lowercased(), port)], let split = AddressMap.split(exact) { return split }
        for rule in rules {
            if let mapped = rule.map(host: host, port: port) { return mapped }
        }
        return nil
    }

    /// As `reachable(host:port:)` for a `host:port` text (IPv6 in brackets).
    public func reachable(_ address: String) -> String? {
        guard let (host, port) = AddressMap.split(address), let mapped = reachable(host: host, port: port) else { return nil }
        return AddressMap.join(mapped.host, mapped.port)
    }

    /// The announced address of an exact entry whose reachable side is `address`, when exactly one entry has it.
    /// Rules are not inverted: a CIDR has no single announced address.
    public func announced(_ address: String) -> String? {
        let wanted = AddressMap.normalized(address)
        let keys = nodes.filter { $0.value == wanted }.map(\.key)
        return keys.count == 1 ? keys[0] : nil
    }

    /// Every host the map may dial: the exact entries' and the rules' reachable hosts.
    public var reachableHosts: [String] {
        nodes.values.compactMap { AddressMap.split($0)?.host } + rules.map(\.reachable)
    }

    // MARK: - Addresses

    /// `host:port` or `[v6]:port` into its parts (host without brackets); nil when malformed.
    public static func split(_ address: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]"), address[address.index(after: close)...].hasPrefix(":") else { return nil }
            host = address[address.index(after: address.startIndex)..<close]
            portText = address[address.index(close, offsetBy: 2)...]
        } else {
            guard let colon = address.lastIndex(of: ":") else { return nil }
            host = address[..<colon]
            guard !host.contains(":") else { return nil }
            portText = address[address.index(after: colon)...]
        }
        guard !host.isEmpty, (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    public static func join(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The address with its host lower-cased (unchanged when malformed).
    static func normalized(_ address: String) -> String {
        guard let (host, port) = split(address) else { return address }
        return join(host.lowercased(), port)
    }

    /// The 4 or 16 bytes of an IP literal; nil for host names.
    public static func ipBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }
}
