/// A master as the planners see it: who it is and which slots it owns.
public struct MasterSlots: Sendable, Equatable, Codable {
    public var id: String
    public var address: String
    public var slots: SlotSet

    public init(id: String, address: String, slots: SlotSet) {
        self.id = id
        self.address = address
        self.slots = slots
    }
}
