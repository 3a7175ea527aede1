/// A slot a node reports as importing or migrating (an interrupted or running reshard).
public struct OpenSlot: Sendable, Equatable, Codable {
    public var slot: Int
    /// Id of the reporting node.
    public var node: String
    public var address: String
    /// "importing" or "migrating".
    public var state: String
    /// Id of the node on the other side.
    public var peer: String

    public init(slot: Int, node: String, address: String, state: String, peer: String) {
        self.slot = slot
        self.node = node
        self.address = address
        self.state = state
        self.peer = peer
    }
}
