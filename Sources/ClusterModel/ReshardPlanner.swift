/// `redis-cli --cluster reshard`: which slots move from which sources to one target.
public enum ReshardPlanner {
    /// redis-cli's `clusterManagerComputeReshardTable`: sources by slot count, largest first (ties keep
    /// the given order), each giving its lowest `count * owned / total` slots, rounded up for the first
    /// source and down for the rest, with the total capped at `count`. The arithmetic is single precision,
    /// as in redis-cli, so the same inputs round the same way. A source equal to the target is ignored.
    public static func plan(sources: [MasterSlots], target: String, count: Int) throws(ClusterModelError) -> [SlotMove] {
        guard !target.isEmpty else { throw .invalidArgument("no target node given") }
        guard count >= 1 else { throw .invalidArgument("the number of slots to move must be at least 1, got \(count)") }
        let givers = sources.filter { $0.id != target }
        guard !givers.isEmpty else { throw .invalidArgument("no source nodes given") }
        let total = givers.reduce(0) { $0 + $1.slots.count }
        guard count <= total else { throw .notEnoughSlots(requested: count, available: total) }
        return table(sources: givers, count: count).map { SlotMove(from: $0.id, to: target, slots: $0.slots) }
    }

    /// Moves exactly the given slots to `target`, each from its current owner among `owners` (which must
    /// include the target). Slots already on the target are skipped; batches are ordered by lowest slot.
    public static func plan(slots: SlotSet, target: String, owners: [MasterSlots]) throws(ClusterModelError) -> [SlotMove] {
        guard !slots.isEmpty else { throw .invalidArgument("no slots given") }
        guard slots.subtracting(.all).isEmpty else {
            throw .invalidSlotRange("\(slots.subtracting(.all)) is outside 0...\(HashSlot.count - 1)")
        }
        guard owners.contains(where: { $0.id == target }) else { throw .unknownNode(target) }
        let owned = owners.reduce(SlotSet()) { $0.union($1.slots) }
        let unowned = slots.subtracting(owned)
        guard unowned.isEmpty else { throw .unownedSlots(unowned) }
        var claimed = SlotSet()
        var moves: [SlotMove] = []
        for owner in owners {
            let mine = owner.slots.intersection(slots)
            let overlap = mine.intersection(claimed)
            guard overlap.isEmpty else {
                throw .impossible("slots \(overlap) are claimed by more than one master, including \(owner.id)")
            }
            claimed = claimed.union(mine)
            if owner.id != target, !mine.isEmpty {
                moves.append(SlotMove(from: owner.id, to: target, slots: mine))
            }
        }
        return moves.sorted { ($0.slots.lowest ?? 0) < ($1.slots.lowest ?? 0) }
    }

    /// The reshard table itself, shared with the rebalancer: (source id, slots it gives) in move order.
    static func table(sources: [MasterSlots], count: Int) -> [(id: String, slots: SlotSet)] {
        let total = sources.reduce(0) { $0 + $1.slots.count }
        let sorted = sources.enumerated().sorted {
            ($0.element.slots.count, $1.offset) > ($1.element.slots.count, $0.offset)
        }.map(\.element)
        var moved = 0
        var result: [(id: String, slots: SlotSet)] = []
        for (index, source) in sorted.enumerated() {
            let share = Float(count) / Float(total) * Float(source.slots.count)
            let quota = Int(index == 0 ? share.rounded(.up) : share.rounded(.down))
            let taken = source.slots.first(min(quota, count - moved))
            moved += taken.count
            if !taken.isEmpty {
                result.append((source.id, taken))
            }
        }
        return result
    }
}
