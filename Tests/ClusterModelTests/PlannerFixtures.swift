import ClusterModel

/// Masters of the seed 001 cluster before and after its 3→4 reshard (ids and addresses from the seed).
enum PlannerFixtures {
    static let a = "e9f6799de802f01ef0a001e02f7fc63b76ec003b"
    static let b = "d38ee9755d159524733c8cdadf142ef641deb1c5"
    static let c = "587a8c64afbe43f080aa2ae7cd293c07fb08713b"
    static let d = "bded87e6083159198b9159c40a9c8804e744df13"

    static func master(_ id: String, _ port: Int, _ ranges: [ClosedRange<Int>]) -> MasterSlots {
        MasterSlots(id: id, address: "127.0.0.1:\(port)", slots: SlotSet(ranges: ranges))
    }

    /// `redis-cli --cluster create` result plus the empty 6387 added with `add-node`.
    static let threeFullOneEmpty = [
        master(a, 6381, [0...5460]), master(b, 6382, [5461...10922]), master(c, 6383, [10923...16383]),
        master(d, 6387, []),
    ]

    /// After `reshard` of 4096 slots from all masters to 6387, as printed by `--cluster check` in the seed.
    static let fourAfterReshard = [
        master(a, 6381, [1365...5460]), master(b, 6382, [6827...10922]), master(c, 6383, [12288...16383]),
        master(d, 6387, [0...1364, 5461...6826, 10923...12287]),
    ]

    /// Applies a plan to a set of masters, checking each move takes slots its source owns.
    static func apply(_ moves: [SlotMove], to masters: [MasterSlots]) -> [String: SlotSet] {
        var owned = Dictionary(uniqueKeysWithValues: masters.map { ($0.id, $0.slots) })
        for move in moves {
            precondition(move.slots.subtracting(owned[move.from] ?? SlotSet()).isEmpty, "moving unowned slots")
            owned[move.from] = owned[move.from]?.subtracting(move.slots)
            owned[move.to] = (owned[move.to] ?? SlotSet()).union(move.slots)
        }
        return owned
    }
}
