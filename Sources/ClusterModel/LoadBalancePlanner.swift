/// Rebalance by load rather than by slot count: moves slots from masters above their share of a measure (keys,
/// CPU, memory per slot) to masters below it, until every master is within `thresholdPercent` of its share or no
/// slot fits. A master's share is the total times its weight over the sum of weights (1 each unless given).
public enum LoadBalancePlanner {
    public struct Master: Sendable {
        public var id: String
        public var address: String
        public var slots: SlotSet
        /// The measure per slot; slots not listed count 0.
        public var load: [Int: Double]

        public init(id: String, address: String, slots: SlotSet, load: [Int: Double]) {
            self.id = id
            self.address = address
            self.slots = slots
            self.load = load
        }
    }

    /// Each master's figure before and after the plan, and its share: what a dry run shows.
    public struct Figure: Sendable, Equatable, Codable {
        public var id: String
        public var address: String
        public var before: Double
        public var after: Double
        public var target: Double
    }

    /// `receivers`: the masters that may take slots (all by default; redis-cli leaves empty masters out unless asked).
    public static func plan(masters: [Master], weights: [String: Double] = [:], thresholdPercent: Double,
                            receivers: Set<String>? = nil) -> (moves: [SlotMove], figures: [Figure]) {
        let weight = { (id: String) in weights[id] ?? 1 }
        let totalWeight = masters.reduce(0) { $0 + weight($1.id) }
        var load: [String: Double] = [:]
        var owned: [String: [(slot: Int, load: Double)]] = [:]
        for master in masters {
            let slots = master.slots.slots.map { (slot: $0, load: master.load[$0] ?? 0) }
            owned[master.id] = slots.sorted { $0.load > $1.load }
            load[master.id] = slots.reduce(0) { $0 + $1.load }
        }
        let total = load.values.reduce(0, +)
        var target: [String: Double] = [:]
        for master in masters { target[master.id] = totalWeight > 0 ? total * weight(master.id) / totalWeight : 0 }
        let before = load
        let tolerance = { (id: String) in max(target[id]! * thresholdPercent / 100, 0) }
        var moved: [String: [Int]] = [:]  // "from>to" → slots

        for _ in 0..<HashSlot.count {
            // The master furthest above its share gives to the one furthest below it.
            guard let donor = masters.map(\.id).max(by: { load[$0]! - target[$0]! < load[$1]! - target[$1]! }),
                  let receiver = masters.map(\.id).filter({ receivers?.contains($0) ?? true })
                      .min(by: { load[$0]! - target[$0]! < load[$1]! - target[$1]! }),
                  donor != receiver else { break }
            let excess = load[donor]! - target[donor]!
            let deficit = target[receiver]! - load[receiver]!
            guard excess > tolerance(donor) || deficit > tolerance(receiver) else { break }
            // Moving a slot of load L changes the two deviations to E - L and D - L: their squares shrink exactly when
            // L < E + D, most at L = (E + D) / 2. So the slot closest to that, and the spread shrinks every step.
            let ideal = (excess + deficit) / 2
            guard let index = closest(to: ideal, in: owned[donor]!, below: excess + deficit) else { break }
            let slot = owned[donor]!.remove(at: index)
            owned[receiver]!.append(slot)
            owned[receiver]!.sort { $0.load > $1.load }
            load[donor]! -= slot.load
            load[receiver]! += slot.load
            moved["\(donor)>\(receiver)", default: []].append(slot.slot)
        }
        let moves = moved.keys.sorted().map { key -> SlotMove in
            let parts = key.split(separator: ">").map(String.init)
            return SlotMove(from: parts[0], to: parts[1], slots: SlotSet(moved[key]!))
        }
        let figures = masters.map { master in
            Figure(id: master.id, address: master.address, before: before[master.id]!, after: load[master.id]!,
                   target: target[master.id]!)
        }
        return (moves, figures)
    }

    /// The index of the slot whose load is closest to `ideal`, among loads in (0, limit); `slots` sorted heaviest first.
    static func closest(to ideal: Double, in slots: [(slot: Int, load: Double)], below limit: Double) -> Int? {
        // First index whose load is <= ideal (loads descend).
        var low = 0
        var high = slots.count
        while low < high {
            let mid = (low + high) / 2
            if slots[mid].load > ideal { low = mid + 1 } else { high = mid }
        }
        var best: Int?
        for index in [low - 1, low] where index >= 0 && index < slots.count {
            let load = slots[index].load
            guard load > 0, load < limit - 1e-9 else { continue }
            if best == nil || abs(load - ideal) < abs(slots[best!].load - ideal) { best = index }
        }
        return best
    }
}
