/// What `redis-cli --cluster info` prints, from a topology: keys, slots and replicas per master, and the keys per
/// slot on average ("[OK] 1000000 keys in 3 masters. 61.04 keys per slot on average.").
public struct ClusterInfoSummary: Sendable, Equatable, Codable {
    public struct Master: Sendable, Equatable, Codable {
        public var id: String
        public var address: String
        /// nil when the master could not be reached.
        public var keys: Int?
        public var slots: Int
        public var replicas: Int
    }

    public var masters: [Master]
    public var keys: Int
    public var slotsAssigned: Int
    public var keysPerSlot: Double
    /// The line redis-cli prints last.
    public var message: String

    public init(_ topology: ClusterTopology) {
        masters = topology.masters.map { master in
            Master(id: master.id, address: master.address, keys: master.reachable ? master.keys : nil,
                   slots: master.slots.count,
                   replicas: topology.nodes.filter { !$0.isMaster && $0.masterId == master.id }.count)
        }
        keys = masters.reduce(0) { $0 + ($1.keys ?? 0) }
        slotsAssigned = masters.reduce(0) { $0 + $1.slots }
        keysPerSlot = slotsAssigned == 0 ? 0 : (Double(keys) / Double(slotsAssigned) * 100).rounded() / 100
        let hundredths = Int((keysPerSlot * 100).rounded())
        let fraction = hundredths % 100 < 10 ? "0\(hundredths % 100)" : "\(hundredths % 100)"
        message = "[OK] \(keys) keys in \(masters.count) masters. \(hundredths / 100).\(fraction) keys per slot on average."
    }
}
