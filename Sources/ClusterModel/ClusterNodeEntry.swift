/// One line of `CLUSTER NODES`: how the answering node sees one member of the cluster.
public struct ClusterNodeEntry: Sendable, Equatable {
    public var id: String
    /// Empty for `noaddr` nodes (`:0@0`).
    public var host: String
    public var port: Int
    /// nil for Redis 3 output, which has no `@cport`.
    public var busPort: Int?
    /// The announced hostname (Redis 7 `ip:port@cport,hostname`).
    public var hostname: String?
    public var flags: [String]
    /// nil for masters (`-`).
    public var masterId: String?
    public var pingSent: Int64
    public var pongReceived: Int64
    public var configEpoch: Int64
    public var linkState: String
    public var slots: SlotSet
    /// slot → id of the node the slot is being imported from.
    public var importing: [Int: String]
    /// slot → id of the node the slot is being migrated to.
    public var migrating: [Int: String]

    public init(
        id: String, host: String, port: Int, busPort: Int? = nil, hostname: String? = nil, flags: [String],
        masterId: String? = nil, pingSent: Int64 = 0, pongReceived: Int64 = 0, configEpoch: Int64 = 0,
        linkState: String = "connected", slots: SlotSet = SlotSet(), importing: [Int: String] = [:],
        migrating: [Int: String] = [:]
    ) {
        self.id = id
        self.host = host
        self.port = port
        self.busPort = busPort
        self.hostname = hostname
        self.flags = flags
        self.masterId = masterId
        self.pingSent = pingSent
        self.pongReceived = pongReceived
        self.configEpoch = configEpoch
        self.linkState = linkState
        self.slots = slots
        self.importing = importing
        self.migrating = migrating
    }

    /// `host:port`, bracketing IPv6 hosts so the port stays unambiguous.
    public var address: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public var isMyself: Bool { flags.contains("myself") }
    public var isMaster: Bool { flags.contains("master") }
    /// Redis 7 may print `replica`; older versions print `slave`.
    public var isReplica: Bool { flags.contains("slave") || flags.contains("replica") }
    public var isFailing: Bool { flags.contains("fail") }
    public var isPossiblyFailing: Bool { flags.contains("fail?") }
    public var hasNoAddress: Bool { flags.contains("noaddr") }
    public var inHandshake: Bool { flags.contains("handshake") }
}
