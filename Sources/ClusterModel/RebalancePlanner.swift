/// `redis-cli --cluster rebalance`: even out slots across masters in proportion to their weights.
public enum RebalancePlanner {
    /// Follows redis-cli's `clusterManagerCommandRebalance` step by step, in single precision like it:
    /// - masters without slots take part only with `useEmptyMasters`;
    /// - expected = trunc(16384 / totalWeight * weight), balance = owned - expected;
    /// - nothing to do unless some node is off by more than `thresholdPercent` (redis-cli treats a
    ///   threshold of 0 as "never", and so does this);
    /// - a positive rounding remainder is pushed onto the first non-giving nodes, one slot each;
    /// - nodes are sorted by balance (ties keep the given order) and the most loaded node gives its
    ///   lowest slots to the most starved one until both ends meet.
    /// A weight of 0 drains a node. Weights are keyed by node id; unlisted masters weigh 1.
    public static func plan(
        masters: [MasterSlots], weights: [String: Double] = [:], thresholdPercent: Double = 2,
        useEmptyMasters: Bool = false
    ) throws(ClusterModelError) -> [SlotMove] {
        try plan(
            masters: masters, weights: weights, thresholdPercent: thresholdPercent, useEmptyMasters: useEmptyMasters,
            totalSlots: HashSlot.count)
    }

    /// `totalSlots` is what the weights share out: 16384 for a real rebalance, the slots held by the
    /// participants when draining to a subset of masters.
    static func plan(
        masters: [MasterSlots], weights: [String: Double], thresholdPercent: Double, useEmptyMasters: Bool,
        totalSlots: Int
    ) throws(ClusterModelError) -> [SlotMove] {
        for (id, weight) in weights {
            guard masters.contains(where: { $0.id == id }) else { throw .unknownNode(id) }
            guard weight.isFinite, weight >= 0 else { throw .invalidArgument("weight \(weight) for \(id)") }
        }
        guard thresholdPercent.isFinite, thresholdPercent >= 0 else {
            throw .invalidArgument("threshold \(thresholdPercent)%")
        }
        var ids = Set<String>()
        for master in masters {
            guard ids.insert(master.id).inserted else { throw .invalidArgument("master \(master.id) given twice") }
        }

        struct Participant {
            var id: String
            var slots: SlotSet
            var weight: Float
            var balance = 0
        }
        var nodes = masters
            .filter { useEmptyMasters || !$0.slots.isEmpty }
            .map { Participant(id: $0.id, slots: $0.slots, weight: Float(weights[$0.id] ?? 1)) }
        let totalWeight = nodes.reduce(Float(0)) { $0 + $1.weight }
        guard !nodes.isEmpty, totalWeight > 0 else {
            throw .impossible("nothing to rebalance: no master with slots and a non-zero weight")
        }

        let threshold = Double(Float(thresholdPercent))
        var thresholdReached = false
        var totalBalance = 0
        for index in nodes.indices {
            let owned = nodes[index].slots.count
            let expected = Int(Float(totalSlots) / totalWeight * nodes[index].weight)
            nodes[index].balance = owned - expected
            totalBalance += nodes[index].balance
            if threshold > 0 {
                if owned > 0 {
                    if abs(100 - 100.0 * Double(expected) / Double(owned)) > threshold { thresholdReached = true }
                } else if expected > 1 {
                    thresholdReached = true
                }
            }
        }
        guard thresholdReached else { return [] }

        while totalBalance > 0 {
            for index in nodes.indices where nodes[index].balance <= 0 && totalBalance > 0 {
                nodes[index].balance -= 1
                totalBalance -= 1
            }
        }

        nodes = nodes.enumerated()
            .sorted { ($0.element.balance, $0.offset) < ($1.element.balance, $1.offset) }
            .map(\.element)
        var moves: [SlotMove] = []
        var dst = 0
        var src = nodes.count - 1
        // Nodes between the two ends are still sorted, so once the giving end has nothing to give nobody
        // has. redis-cli would go on taking from receivers (possible only when the masters do not hold
        // every slot); stopping is the only sane reading.
        while dst < src, nodes[src].balance > 0 {
            let count = min(abs(nodes[dst].balance), abs(nodes[src].balance))
            if count > 0 {
                let table = ReshardPlanner.table(
                    sources: [MasterSlots(id: nodes[src].id, address: "", slots: nodes[src].slots)], count: count)
                for (from, slots) in table {
                    moves.append(SlotMove(from: from, to: nodes[dst].id, slots: slots))
                    nodes[src].slots = nodes[src].slots.subtracting(slots)
                    nodes[dst].slots = nodes[dst].slots.union(slots)
                }
            }
            nodes[dst].balance += count
            nodes[src].balance -= count
            if nodes[dst].balance == 0 { dst += 1 }
            if nodes[src].balance == 0 { src -= 1 }
        }
        return moves
    }
}
