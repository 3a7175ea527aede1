/// The layout `redis-cli --cluster create` would set up.
public struct CreatePlan: Sendable, Equatable, Codable {
    public struct Master: Sendable, Equatable, Codable {
        public var address: String
        /// Empty only for nodes left over after every master got its extra replica, as in redis-cli.
        public var slots: SlotSet

        public init(address: String, slots: SlotSet) {
            self.address = address
            self.slots = slots
        }
    }

    public struct Replica: Sendable, Equatable, Codable {
        public var address: String
        public var masterAddress: String

        public init(address: String, masterAddress: String) {
            self.address = address
            self.masterAddress = masterAddress
        }
    }

    /// Slot-owning masters in slot order, then any leftover nodes.
    public var masters: [Master]
    public var replicas: [Replica]

    public init(masters: [Master], replicas: [Replica]) {
        self.masters = masters
        self.replicas = replicas
    }
}
