/// A batch of slots moving from one master to another. Plans list batches in execution order;
/// within a batch, slots move in ascending order, as redis-cli moves them.
public struct SlotMove: Sendable, Equatable, Codable {
    /// Source node id.
    public var from: String
    /// Target node id.
    public var to: String
    public var slots: SlotSet

    public init(from: String, to: String, slots: SlotSet) {
        self.from = from
        self.to = to
        self.slots = slots
    }
}
