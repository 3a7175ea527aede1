/// One cluster member in the merged topology.
public struct TopologyNode: Sendable, Equatable {
    public var id: String
    public var address: String
    /// Where the service dials it, when the cluster's address map maps `address` (the announced one) elsewhere.
    public var reachableAddress: String?
    /// "master" or "replica".
    public var role: String
    public var masterId: String?
    public var slots: SlotSet
    public var slotCount: Int
    /// DBSIZE, when the node was reachable.
    public var keys: Int?
    /// Flags without the view-relative "myself".
    public var flags: [String]
    public var linkState: String
    public var configEpoch: Int64
    /// True when the node answered and its own view was used.
    public var reachable: Bool
    public var clusterState: String?
    /// Replica ids, for masters; sorted by replica address.
    public var replicas: [String]
    /// slot → source id; nil unless the node reports importing slots.
    public var importing: [Int: String]?
    /// slot → target id; nil unless the node reports migrating slots.
    public var migrating: [Int: String]?
    /// Why the node could not be read.
    public var error: String?
    /// The server it runs (from `INFO server`), when it answered.
    public var server: ServerVersion?

    public init(
        id: String, address: String, role: String, masterId: String?, slots: SlotSet, keys: Int?,
        flags: [String], linkState: String, configEpoch: Int64, reachable: Bool, clusterState: String?,
        replicas: [String], importing: [Int: String]?, migrating: [Int: String]?, error: String?,
        server: ServerVersion? = nil
    ) {
        self.id = id
        self.address = address
        self.role = role
        self.masterId = masterId
        self.slots = slots
        self.slotCount = slots.count
        self.keys = keys
        self.flags = flags
        self.linkState = linkState
        self.configEpoch = configEpoch
        self.reachable = reachable
        self.clusterState = clusterState
        self.replicas = replicas
        self.importing = importing
        self.migrating = migrating
        self.error = error
        self.server = server
    }

    public var isMaster: Bool { role == "master" }

    /// True when `address` is this node's announced address or the one the service dials it at.
    public func isNamed(_ address: String) -> Bool {
        self.address == address || reachableAddress == address
    }
}
