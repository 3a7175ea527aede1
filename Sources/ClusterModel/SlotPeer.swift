/// One open slot and the node on the other side of the migration; the JSON shape of
/// the importing/migrating maps, because JSON objects cannot have integer keys.
public struct SlotPeer: Sendable, Equatable, Codable {
    public var slot: Int
    public var node: String

    public init(slot: Int, node: String) {
        self.slot = slot
        self.node = node
    }

    static func list(_ map: [Int: String]) -> [SlotPeer] {
        map.sorted { $0.key < $1.key }.map { SlotPeer(slot: $0.key, node: $0.value) }
    }

    static func map(_ list: [SlotPeer]) -> [Int: String] {
        Dictionary(list.map { ($0.slot, $0.node) }, uniquingKeysWith: { _, last in last })
    }
}
